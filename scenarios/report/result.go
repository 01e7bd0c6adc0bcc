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
	Setup   time.Duration     `json:"setup"`
	Steps   []Step            `json:"steps"`
	Traffic []TrafficReport   `json:"traffic,omitempty"`
	WorkDir string            `json:"workDir,omitempty"`
	Logs    map[string]string `json:"logs,omitempty"`
}

// Step is one step's outcome.
type Step struct {
	Index    int           `json:"index"`
	Line     int           `json:"line,omitempty"`
	Action   string        `json:"action"`
	Detail   string        `json:"detail"`
	Status   string        `json:"status"`
	Message  string        `json:"message,omitempty"`
	Duration time.Duration `json:"duration"`
}

// TrafficReport describes one traffic run.
type TrafficReport struct {
	Name    string                 `json:"name"`
	Service string                 `json:"service"`
	Summary traffic.Summary        `json:"summary"`
	Classes map[string]ClassReport `json:"classes"`
}

// ClassReport is one class of a traffic run.
type ClassReport struct {
	Summary traffic.Summary `json:"summary"`
	// Shares of the target service's versions among answered requests.
	Shares map[string]float64 `json:"shares"`
}

// Failed reports whether the result should fail a run.
func (r *Result) Failed() bool { return r.Status == Failed || r.Status == Error }
