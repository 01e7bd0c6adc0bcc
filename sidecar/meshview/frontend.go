package meshview

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"github.com/meshbridge/meshbridge/registry"
)

// FrontEnd is one registry protocol (Eureka, Consul, Nacos) served over
// the view on localhost.
type FrontEnd interface {
	// Listen binds the front-end's sockets for the configured address (a
	// protocol may bind more than one: Nacos adds gRPC at port + 1000).
	Listen(addr string) error
	// Serve serves until ctx ends, then drains, stops background work and
	// returns. It is called once, after a successful Listen.
	Serve(ctx context.Context) error
	// Close releases what Listen bound when Serve will not run.
	Close() error
}

// FrontEndFunc builds a front-end over store for namespace.
type FrontEndFunc func(store registry.Discovery, namespace string, logger *slog.Logger) (FrontEnd, error)

var (
	frontEndsMu sync.RWMutex
	frontEnds   = map[string]FrontEndFunc{}
)

// RegisterFrontEnd makes a protocol available to discovery mode under name
// ("eureka", "consul", "nacos"). An empty or duplicate name panics.
func RegisterFrontEnd(name string, fn FrontEndFunc) {
	frontEndsMu.Lock()
	defer frontEndsMu.Unlock()
	if name == "" || fn == nil {
		panic("meshview: front-end needs a name and a constructor")
	}
	if _, dup := frontEnds[name]; dup {
		panic("meshview: front-end " + name + " registered twice")
	}
	frontEnds[name] = fn
}

// LookupFrontEnd returns a registered front-end constructor.
func LookupFrontEnd(name string) (FrontEndFunc, bool) {
	frontEndsMu.RLock()
	defer frontEndsMu.RUnlock()
	fn, ok := frontEnds[name]
	return fn, ok
}

// FrontEnds lists the registered front-end names, sorted.
func FrontEnds() []string {
	frontEndsMu.RLock()
	defer frontEndsMu.RUnlock()
	out := make([]string, 0, len(frontEnds))
	for n := range frontEnds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
