// Package kinds is the by-name registry every pluggable part of meshbridge
// uses: sidecar handlers, upstream transports, resource kinds, registry
// front-ends, registrysync connectors, scenario providers. Parts register
// at init from their own package, so an empty or duplicate name is a
// programming error and panics, loudly, at start.
package kinds

import (
	"fmt"
	"sort"
	"sync"
)

// Registry holds the registered parts of one sort, by name.
type Registry[K any] struct {
	what string // what a part is called in panics ("handler kind")
	mu   sync.RWMutex
	byID map[string]K
}

// New returns an empty registry of parts called what.
func New[K any](what string) *Registry[K] {
	return &Registry[K]{what: what, byID: map[string]K{}}
}

// Register adds k under name; an empty or duplicate name panics.
func (r *Registry[K]) Register(name string, k K) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == "" {
		panic(fmt.Sprintf("%s registered without a name", r.what))
	}
	if _, dup := r.byID[name]; dup {
		panic(fmt.Sprintf("%s %q registered twice", r.what, name))
	}
	r.byID[name] = k
}

// Lookup returns the part registered under name.
func (r *Registry[K]) Lookup(name string) (K, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.byID[name]
	return k, ok
}

// Names lists the registered names, sorted.
func (r *Registry[K]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.byID))
	for n := range r.byID {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All lists the registered parts in the order of their names.
func (r *Registry[K]) All() []K {
	names := r.Names()
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]K, len(names))
	for i, n := range names {
		out[i] = r.byID[n]
	}
	return out
}
