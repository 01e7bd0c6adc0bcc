package chain

import (
	"log/slog"

	"github.com/meshbridge/meshbridge/internal/kinds"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
)

// Config is a handler's configuration, decoded strictly from the
// `handlers.<name>` section of the sidecar config onto NewConfig's defaults.
type Config interface {
	// Validate checks the config; errors name the field ("attempts: must be 0-10").
	Validate() error
}

// Deps are what a handler may use besides its config.
type Deps struct {
	Logger    *slog.Logger
	Metrics   *metrics.Set
	Direction Direction
	// LocalService is the service of the app beside this sidecar.
	LocalService string
	// Send sends an exchange to its Endpoint through the transport; set for
	// every handler but the transport itself (mirror uses it).
	Send Next
}

// Kind is a registered handler kind.
type Kind struct {
	// Name is how configs refer to the handler ("retry").
	Name string
	// NewConfig returns the config with every default filled in.
	NewConfig func() Config
	// New builds a handler from a validated config. One handler instance is
	// built per direction that lists it.
	New func(cfg Config, deps Deps) (Handler, error)
}

var registered = kinds.New[Kind]("chain: handler kind")

// Register adds a handler kind. An empty or duplicate name panics: handlers
// register at init, and a clash is a programming error.
func Register(k Kind) {
	if k.New == nil || k.NewConfig == nil {
		panic("chain: handler kind " + k.Name + " needs NewConfig and New")
	}
	registered.Register(k.Name, k)
}

// Lookup returns a registered kind.
func Lookup(name string) (Kind, bool) { return registered.Lookup(name) }

// Names lists the registered handler names, sorted.
func Names() []string { return registered.Names() }
