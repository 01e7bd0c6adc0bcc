package frontend

import (
	"flag"
	"github.com/meshbridge/meshbridge/internal/kinds"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// Config is a front-end's configuration: the top-level section of
// registry-adapter's configuration under the front-end's name, decoded
// strictly onto NewConfig's defaults.
type Config interface {
	// Validate names every wrong field with its path from the top of
	// registry-adapter's configuration ("eureka.listen: ..."); a disabled
	// front-end (no listen address) has nothing wrong.
	Validate() error
	// Flags binds the front-end's command-line flags to the
	// configuration's fields, defaults printed as they are
	// (--eureka-listen).
	Flags(fs *flag.FlagSet)
}

// Kind is a registered front-end.
type Kind struct {
	// Name is the protocol's name: its section of registry-adapter's
	// configuration, the prefix of its flags and its key under a
	// sidecar's discovery: ("eureka").
	Name string
	// NewConfig returns the configuration with every default filled in.
	NewConfig func() Config
	// Mount builds the front-end from a validated configuration over
	// env.Registry, binds its listeners and adds its servers and watchers
	// to env.Group. A front-end without a listen address is disabled: it
	// logs so and adds nothing.
	Mount func(cfg Config, env Env) error
	// DiscoveryListen is the front-end's address in a sidecar's discovery
	// mode unless configured otherwise: loopback and the protocol's port
	// ("127.0.0.1:8761"); "" leaves it off by default.
	DiscoveryListen string
	// KeyValues is set when the protocol serves the registry's key space
	// (Consul KV, Nacos config): a sidecar with it on has its view follow
	// the keys.
	KeyValues bool
}

// Env is what a front-end is mounted with.
type Env struct {
	// Registry is what the front-end serves: registry-adapter's store or
	// a sidecar's mesh view.
	Registry registry.Discovery
	// Group is the binary's run group, which the front-end's listeners,
	// gRPC server and watchers join.
	Group  *app.Group
	Logger *slog.Logger
	// Metrics receives the front-end's metrics; nil for none.
	Metrics prometheus.Registerer
	// Timeouts and Limits bound every listener the front-end opens
	// (zero values: internal/serve's defaults).
	Timeouts serve.Timeouts
	Limits   serve.Limits
	// Sidecar is set in a sidecar's discovery mode: the front-end then
	// serves one app on loopback with its defaults but for the address
	// and namespace given, and reads no credentials from the environment.
	Sidecar *Sidecar
}

// Sidecar is how a sidecar's discovery mode mounts a front-end.
type Sidecar struct {
	// Listen is the address to serve on (the sidecar's discovery.<name>).
	Listen string
	// Namespace is the app's registry namespace, the one the front-end
	// shows where its protocol has no namespaces of its own.
	Namespace string
}

var registered = kinds.New[Kind]("frontend: front-end")

// Register adds a front-end. An empty or duplicate name panics:
// front-ends register at init, and a clash is a programming error.
func Register(k Kind) {
	if k.NewConfig == nil || k.Mount == nil {
		panic("frontend: front-end " + k.Name + " needs NewConfig and Mount")
	}
	registered.Register(k.Name, k)
}

// Lookup returns a registered front-end.
func Lookup(name string) (Kind, bool) { return registered.Lookup(name) }

// Kinds lists the registered front-ends, sorted by name: the order their
// sections are validated and their servers mounted in.
func Kinds() []Kind { return registered.All() }

// Names lists the registered front-ends' names, sorted.
func Names() []string { return registered.Names() }
