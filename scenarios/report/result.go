package report

import (
	"time"

	"github.com/meshbridge/meshbridge/scenarios/traffic"
)

// Statuses of scenarios and steps.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
	// Error means the scenario could not run (a build or start failure).
	Error = "error"
	// Interrupted means the run was stopped from outside (Ctrl-C, SIGTERM)
	// before it ended; it does not pass a CI run.
	Interrupted = "interrupted"
)

// Result is one scenario run.
type Result struct {
	Name     string `json:"name"`
	File     string `json:"file,omitempty"`
	Provider string `json:"provider"`
	Status   string `json:"status"`
	// Reason explains a skip or an error.
	Reason   string        `json:"reason,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	// Setup is how long building and starting the topology took.
	Setup time.Duration `json:"setup"`
	// Containers are the extra containers the topology names.
	Containers []Container     `json:"containers,omitempty"`
	Steps      []Step          `json:"steps"`
	Traffic    []TrafficReport `json:"traffic,omitempty"`
	// Requests adds up the traffic runs (nil without traffic).
	Requests *Requests         `json:"requests,omitempty"`
	WorkDir  string            `json:"workDir,omitempty"`
	Logs     map[string]string `json:"logs,omitempty"`
}

// Step is one step's outcome.
type Step struct {
	Index   int    `json:"index"`
	Line    int    `json:"line,omitempty"`
	Action  string `json:"action"`
	Detail  string `json:"detail"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	// Started is when the step began (zero for a skipped one).
	Started  time.Time     `json:"started,omitzero"`
	Duration time.Duration `json:"duration"`
}

// Requests are a scenario's requests over all its traffic runs, and the
// retries behind them.
type Requests struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
	// Resent are requests the traffic client's transport sent again; they
	// are counted in Failed, as a retry that is not the mesh's.
	Resent int `json:"resent"`
	// Retried are the attempts the sidecars' retry policy re-sent while
	// the steps ran (meshbridge_sidecar_retries_total, every sidecar): the
	// only retries a request counted as answered may have had.
	Retried int `json:"retried"`
	// RetriedNote says what Retried may miss.
	RetriedNote string `json:"retriedNote,omitempty"`
}

// Container is an extra container of the topology, started from an image.
type Container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// Ports are its ports inside the container, by name (the host ports
	// change when it restarts).
	Ports map[string]int `json:"ports"`
}

// TrafficReport describes one traffic run.
type TrafficReport struct {
	Name    string `json:"name"`
	Service string `json:"service,omitempty"`
	// Container is the target when the run went to a container.
	Container string                 `json:"container,omitempty"`
	Summary   traffic.Summary        `json:"summary"`
	Classes   map[string]ClassReport `json:"classes"`
	// Started is when the run began; Timeline[i] is its second i from there.
	Started  time.Time        `json:"started"`
	Timeline []traffic.Second `json:"timeline,omitempty"`
}

// ClassReport is one class of a traffic run.
type ClassReport struct {
	Summary traffic.Summary `json:"summary"`
	// Shares of the target service's versions among answered requests.
	Shares map[string]float64 `json:"shares"`
}

// Failed reports whether the result should fail a run.
func (r *Result) Failed() bool { return r.Status != Passed && r.Status != Skipped }
