package plugin

import (
	"net/http"
	"sync"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "plugin"

// Host runs plugins. The plugin host implements it and calls SetHost at init.
type Host interface {
	// Handler returns a chain handler that runs the named plugins in order
	// for one direction.
	Handler(names []string, deps chain.Deps) (chain.Handler, error)
}

var (
	hostMu sync.RWMutex
	host   Host
)

// SetHost installs the plugin host; a second call panics.
func SetHost(h Host) {
	hostMu.Lock()
	defer hostMu.Unlock()
	if host != nil {
		panic("plugin: host set twice")
	}
	host = h
}

func currentHost() Host {
	hostMu.RLock()
	defer hostMu.RUnlock()
	return host
}

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			c := cfg.(*Config)
			if len(c.Plugins) == 0 {
				return passthrough{}, nil
			}
			return currentHost().Handler(c.Plugins, deps)
		},
	})
}

// passthrough is the slot with no plugins.
type passthrough struct{}

func (passthrough) Name() string { return Name }

func (passthrough) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	return next(ex)
}

// Active implements chain.Selective: an empty slot is left out of every chain.
func (passthrough) Active(*table.Service) bool { return false }

var (
	_ chain.Handler   = passthrough{}
	_ chain.Selective = passthrough{}
)
