package spec

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Scenario is one scenario file.
type Scenario struct {
	// Name identifies the scenario in reports (required; letters, digits, '-', '_', '.').
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Provider runs the topology: process (default) or container; the
	// command line may override it.
	Provider string `yaml:"provider"`
	// Timeout bounds the whole scenario (default 5m).
	Timeout  time.Duration `yaml:"timeout"`
	Topology Topology      `yaml:"topology"`
	Steps    []Step        `yaml:"steps"`

	// Path is the file the scenario came from (set by Load).
	Path string `yaml:"-"`
	// StepLines holds each step's line in the file, for messages.
	StepLines []int `yaml:"-"`
	// ContainerLines holds each topology.containers item's line.
	ContainerLines []int `yaml:"-"`
}

// Topology is what the scenario starts before its first step.
type Topology struct {
	Registry Registry  `yaml:"registry"`
	Services []Service `yaml:"services"`
	// Proxied names components (patterns with *) whose inbound links pass
	// through a fault proxy, so latency and cut steps can target them.
	Proxied []string `yaml:"proxied"`
	// Containers are extra containers started from any image (a real
	// Consul, Nacos or Eureka server, say) on the scenario network; only
	// the container provider runs them.
	Containers []Container `yaml:"containers"`
	// Mocks are mockservers standing in for services (mock.go).
	Mocks []Mock `yaml:"mocks"`
	// Legacy are registries beside the mesh, as an estate has them before
	// it migrates: each a registry-adapter serving that one protocol over
	// its own store (process provider).
	Legacy []Legacy `yaml:"legacy"`
	// Syncers run registrysync between legacy registries and the mesh
	// (process provider).
	Syncers []Syncer `yaml:"syncers"`
}

// Legacy is a legacy registry: a component serving one registry protocol,
// apart from the mesh.
type Legacy struct {
	// Name is its component name.
	Name string `yaml:"name"`
	// Protocol is the registry it stands in for: eureka, consul or nacos
	// (the registry-adapter serving that one API), or zookeeper (a real
	// ZooKeeper server, Debian's; services register in Spring Cloud
	// Zookeeper's layout).
	Protocol string `yaml:"protocol"`
}

// Syncer is a registrysync process; the runner writes its configuration.
type Syncer struct {
	// Name is its component name.
	Name  string     `yaml:"name"`
	Pairs []SyncPair `yaml:"pairs"`
}

// SyncPair is one of a syncer's pairs: registries named by their legacy
// component name, or MeshRegistry for the mesh (the registry-adapter's
// control API).
type SyncPair struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
	// Direction is one-way (default) or both.
	Direction string `yaml:"direction"`
}

// Container is an extra container started from an image.
type Container struct {
	// Name is its component name and its host name on the scenario network.
	Name string `yaml:"name"`
	// Image is a reference with a tag or digest (hashicorp/consul:1.19);
	// pulled when it is not present locally.
	Image string `yaml:"image"`
	// Ports it listens on inside the container; each is published on the
	// host's 127.0.0.1. The port named http is the one steps and services
	// refer to.
	Ports []ContainerPort `yaml:"ports"`
	// Env is set in the container (on top of the image's).
	Env map[string]string `yaml:"env"`
	// Args replace the image's CMD (the arguments to its entrypoint);
	// empty keeps the image's own.
	Args []string `yaml:"args"`
	// Ready is the HTTP check that says the container is up (required).
	Ready Readiness `yaml:"ready"`
}

// ContainerPort is one named TCP port of a container.
type ContainerPort struct {
	Name string `yaml:"name"`
	Port int    `yaml:"port"`
}

// Readiness is an HTTP GET from the runner's host through a published port.
type Readiness struct {
	// Port names one of the container's ports.
	Port string `yaml:"port"`
	// Path is requested (required, starts with /).
	Path string `yaml:"path"`
	// Status the answer must have (default 200).
	Status int `yaml:"status"`
	// Body is text the answer must contain (default: anything).
	Body string `yaml:"body"`
	// Timeout bounds the wait, each start and restart (default 2m, at
	// most 10m); an image pull before the first start is bounded apart.
	Timeout time.Duration `yaml:"timeout"`
}

// Registry configures the registry-adapter.
type Registry struct {
	// Store is embedded (default; a fresh data directory) or etcd.
	Store string `yaml:"store"`
	// EtcdEndpoints are used with store etcd.
	EtcdEndpoints []string `yaml:"etcdEndpoints"`
	// APIs lists registry front-ends to serve besides the ones the services
	// use: eureka, consul, nacos.
	APIs []string `yaml:"apis"`
}

// Service is one demo service with its versions.
type Service struct {
	Name string `yaml:"name"`
	// Registry is how its instances register: nacos, eureka, consul,
	// zookeeper (with a legacyRegistry) or control (default control).
	Registry string `yaml:"registry"`
	// Sidecar puts a sidecar beside every instance (default true); without
	// one the instance registers its own address.
	Sidecar *bool `yaml:"sidecar"`
	// RegistryContainer names a container (topology.containers) running a
	// real registry server: the instances register there, through its port
	// named http, instead of with the registry-adapter. The mesh does not
	// see them (nothing syncs that registry into the adapter yet).
	RegistryContainer string `yaml:"registryContainer"`
	// LegacyRegistry names a legacy registry (topology.legacy) the
	// instances register with instead of the registry-adapter, through
	// the real client of their registry, which must be its protocol. The
	// mesh sees them when a syncer copies that registry into it.
	LegacyRegistry string    `yaml:"legacyRegistry"`
	Versions       []Version `yaml:"versions"`
}

// HasSidecar reports whether instances get a sidecar.
func (s *Service) HasSidecar() bool { return s.Sidecar == nil || *s.Sidecar }

// Version is a group of identical instances.
type Version struct {
	// Name is the version label (metadata "version").
	Name string `yaml:"name"`
	// Instances to start (default 1, at most 20).
	Instances int `yaml:"instances"`
	// Labels become instance metadata: version, canary, shadow, subset and
	// zone as they are, any other key as label.<key>.
	Labels map[string]string `yaml:"labels"`
	// Latency is added to every answer; ErrorRate of answers fail with
	// ErrorStatus (default 500).
	Latency     time.Duration `yaml:"latency"`
	ErrorRate   Share         `yaml:"errorRate"`
	ErrorStatus int           `yaml:"errorStatus"`
	// Mesh marks a service's moved instances during a migration: each has
	// a sidecar and registers in the mesh through the control API, while
	// the service's other versions stay in its legacyRegistry.
	Mesh bool `yaml:"mesh"`
}

// Step is one action; exactly one field is set.
type Step struct {
	Apply   *Apply    `yaml:"apply"`
	Delete  *Delete   `yaml:"delete"`
	Traffic *Traffic  `yaml:"traffic"`
	Await   string    `yaml:"await"`
	Wait    *Duration `yaml:"wait"`
	// Process faults on components (patterns with *).
	Kill    string `yaml:"kill"`
	Stop    string `yaml:"stop"`
	Start   string `yaml:"start"`
	Restart string `yaml:"restart"`
	Pause   string `yaml:"pause"`
	Resume  string `yaml:"resume"`
	// Link faults (fault proxy or container network).
	Latency *Latency `yaml:"latency"`
	Cut     string   `yaml:"cut"`
	Heal    string   `yaml:"heal"`
	// AppFault changes a demo app's injected latency and errors.
	AppFault *AppFault `yaml:"appFault"`
	Assert   *Assert   `yaml:"assert"`
	// Migration steps (migration.go).
	Shift    *Shift `yaml:"shift"`
	Drain    *Drain `yaml:"drain"`
	Rollback *Shift `yaml:"rollback"`
	// ReleaseBreaker releases the open deletion breakers of syncers
	// (patterns with *), as an operator does once the deletions are meant.
	ReleaseBreaker string `yaml:"releaseBreaker"`
}

// Duration is a time.Duration written as "2s".
type Duration struct{ time.Duration }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{lineMsg(n.Line, "want a duration such as 2s, got %q", n.Value)}}
	}
	d.Duration = v
	return nil
}

// Apply creates or replaces a control-plane resource.
type Apply struct {
	Kind   string            `yaml:"kind"`
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
	// Spec is the kind's spec (see control/rules.go), validated at load.
	Spec yaml.Node `yaml:"spec"`
	// NoWait skips waiting for every sidecar to load the change.
	NoWait bool `yaml:"noWait"`
}

// Delete removes a resource.
type Delete struct {
	Kind   string `yaml:"kind"`
	Name   string `yaml:"name"`
	NoWait bool   `yaml:"noWait"`
}

// Traffic is an open-loop load: requests start on schedule whatever the
// answers' latency.
type Traffic struct {
	// Name identifies the run for assertions (required, unique).
	Name string `yaml:"name"`
	// Service is the target (the Host of http://<service>/<path>), sent
	// through a sidecar's egress.
	Service string `yaml:"service"`
	// Container is the other kind of target (exactly one of the two): a
	// container's port named http, reached by the runner on its published
	// host port, not through the mesh.
	Container string `yaml:"container"`
	// Path (default /) and Method (default GET).
	Path   string `yaml:"path"`
	Method string `yaml:"method"`
	// Rate in requests per second (required).
	Rate float64 `yaml:"rate"`
	// Requests or Duration bound the run (exactly one).
	Requests int           `yaml:"requests"`
	Duration time.Duration `yaml:"duration"`
	// Headers go on every request.
	Headers map[string]string `yaml:"headers"`
	// Classes colour a share of the requests with extra headers; the rest
	// form the class "default".
	Classes []Class `yaml:"classes"`
	// Background lets the next steps run while traffic flows; "await: <name>"
	// waits for it.
	Background bool `yaml:"background"`
	// Timeout per request (default 5s); MaxInFlight caps concurrent
	// requests (default 512): a request due while the cap is reached counts
	// as an error ("overloaded"), as an open-loop generator must.
	Timeout     time.Duration `yaml:"timeout"`
	MaxInFlight int           `yaml:"maxInFlight"`
	// Via is the sidecar whose egress carries the traffic (default edge;
	// not with Container).
	Via string `yaml:"via"`
}

// Class is a share of requests with extra headers.
type Class struct {
	Name    string            `yaml:"name"`
	Share   Share             `yaml:"share"`
	Headers map[string]string `yaml:"headers"`
}

// Latency adds delay to a proxied component's inbound links.
type Latency struct {
	Component string        `yaml:"component"`
	Delay     time.Duration `yaml:"delay"`
	Jitter    time.Duration `yaml:"jitter"`
}

// AppFault steers demo apps (patterns with *): latency, error share, status.
type AppFault struct {
	Component string         `yaml:"component"`
	Latency   *time.Duration `yaml:"latency"`
	ErrorRate *Share         `yaml:"errorRate"`
	Status    int            `yaml:"status"`
}

// Assert checks one condition; exactly one field is set. Within makes the
// runner poll until the condition holds or the time is up.
type Assert struct {
	Name      string         `yaml:"name"`
	Within    time.Duration  `yaml:"within"`
	Share     *ShareCheck    `yaml:"share"`
	ErrorRate *ErrorRate     `yaml:"errorRate"`
	Latency   *LatencyCheck  `yaml:"latency"`
	Compare   *Compare       `yaml:"compare"`
	Instances *InstanceCheck `yaml:"instances"`
	Instance  *OneInstance   `yaml:"instance"`
	Received  *Received      `yaml:"received"`
	Journal   *JournalCheck  `yaml:"journal"`
}

// ShareCheck: the share of answered requests served by each version.
type ShareCheck struct {
	Traffic string `yaml:"traffic"`
	// Class narrows to one class ("default" is the uncoloured rest).
	Class string `yaml:"class"`
	// Service whose version counts (default the traffic's target; a
	// downstream service when the target calls it).
	Service string `yaml:"service"`
	// Expect maps versions to their expected share; versions not named are
	// not checked.
	Expect map[string]Share `yaml:"expect"`
	// Tolerance in share points (default 0).
	Tolerance Share `yaml:"tolerance"`
}

// ErrorRate: failed requests (transport errors and non-2xx) at most Max.
type ErrorRate struct {
	Traffic string `yaml:"traffic"`
	Class   string `yaml:"class"`
	Max     Share  `yaml:"max"`
}

// LatencyCheck: latency percentiles at most the given values.
type LatencyCheck struct {
	Traffic string        `yaml:"traffic"`
	Class   string        `yaml:"class"`
	P50     time.Duration `yaml:"p50"`
	P90     time.Duration `yaml:"p90"`
	P99     time.Duration `yaml:"p99"`
	Max     time.Duration `yaml:"max"`
	// MinP99 is a floor: injected latency must show.
	MinP99 time.Duration `yaml:"minP99"`
}

// Compare judges a run against a baseline run, as canary analysis does:
// p99 <= baseline p99 x P99Ratio + P99Slack, and error rate <= baseline +
// ErrorRateDelta.
type Compare struct {
	Traffic        string        `yaml:"traffic"`
	Baseline       string        `yaml:"baseline"`
	Class          string        `yaml:"class"`
	P99Ratio       float64       `yaml:"p99Ratio"`
	P99Slack       time.Duration `yaml:"p99Slack"`
	ErrorRateDelta Share         `yaml:"errorRateDelta"`
}

// InstanceCheck: the number of instances of a service a registry view shows.
type InstanceCheck struct {
	// View is control (default), eureka, consul, nacos or zookeeper (with
	// from: a legacy ZooKeeper).
	View string `yaml:"view"`
	// From names a container whose port named http serves the view (a
	// real registry server), or a legacy registry, instead of the
	// registry-adapter.
	From    string            `yaml:"from"`
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	Count   int               `yaml:"count"`
	// HealthyOnly counts only instances the view calls healthy/UP.
	HealthyOnly bool `yaml:"healthyOnly"`
}

// OneInstance: one app's instance is (or is not) in a registry view.
type OneInstance struct {
	View string `yaml:"view"`
	// From reads the view from a container or a legacy registry, as in
	// InstanceCheck.
	From      string `yaml:"from"`
	Component string `yaml:"component"`
	Present   bool   `yaml:"present"`
}

// Received checks what demo apps received, counted by the apps themselves.
type Received struct {
	// Traffic narrows the count to that run's window (default: since the start).
	Traffic string `yaml:"traffic"`
	// Service and Labels select the apps (labels include version).
	Service string            `yaml:"service"`
	Labels  map[string]string `yaml:"labels"`
	// Kind counts plain (no X-Mesh-Shadow), shadow, or all requests (default all).
	Kind string `yaml:"kind"`
	// Min and Max bound the count; MinShare and MaxShare bound it as a
	// share of the traffic run's requests (Traffic is then required).
	Min      *int   `yaml:"min"`
	Max      *int   `yaml:"max"`
	MinShare *Share `yaml:"minShare"`
	MaxShare *Share `yaml:"maxShare"`
}
