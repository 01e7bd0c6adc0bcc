package keepalive

import (
	"sync"

	"github.com/meshbridge/meshbridge/registry"
)

// Copy is a copy a sink keeps alive: what it registered (R is the
// registry's registration) and how it came to hold it.
type Copy[R any] struct {
	// Reg is the registration the sink renews, and writes again when a
	// copy it put is lost.
	Reg R
	// Put is set for a copy this process wrote: one the registry lost is
	// registered again. A copy only found in the registry (adopted by
	// Owned after a restart or a takeover) is renewed but not brought
	// back once gone: the engine puts it again if it should still exist,
	// and a standby never revives a copy its peer removed.
	Put bool
	// Want is the instance as last put, which Owned reports while the
	// registry still holds what was written for it (a registry cannot
	// hold every field of the model, so the copy read back may differ
	// while nothing needs writing).
	Want *registry.Instance
}

// Copies are the copies a sink keeps alive, by id, renewed by a Keeper.
type Copies[R any] struct {
	keeper *Keeper

	mu     sync.Mutex
	held   map[string]*Copy[R]
	closed bool
}

// NewCopies returns an empty set renewed by keeper.
func NewCopies[R any](keeper *Keeper) *Copies[R] {
	return &Copies[R]{keeper: keeper, held: map[string]*Copy[R]{}}
}

// Get returns the copy held under id.
func (c *Copies[R]) Get(id string) (*Copy[R], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.held[id]
	return k, ok
}

// Hold records a copy the sink just wrote (or found written as it would
// write it) and renews it from now on. It reports false after Close.
func (c *Copies[R]) Hold(id string, reg R, want *registry.Instance) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.held[id] = &Copy[R]{Reg: reg, Put: true, Want: want.Clone()}
	c.keeper.Add(id, true)
	c.keeper.Start()
	return true
}

// Adopt renews a copy Owned found in the registry. When it is held
// already, it returns the instance it was put as if same says the
// registry holds what was written for it; else nil.
func (c *Copies[R]) Adopt(id string, found R, same func(held R) bool) *registry.Instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	if k, ok := c.held[id]; ok {
		if k.Put && same(k.Reg) {
			return k.Want.Clone()
		}
		return nil
	}
	c.held[id] = &Copy[R]{Reg: found}
	c.keeper.Add(id, false)
	c.keeper.Start()
	return nil
}

// Forget stops renewing id.
func (c *Copies[R]) Forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.held, id)
	c.keeper.Remove(id)
}

// ForgetGone stops renewing a copy the registry no longer has, unless it
// was put again since k was read.
func (c *Copies[R]) ForgetGone(id string, k *Copy[R]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[id] == k {
		delete(c.held, id)
		c.keeper.Remove(id)
	}
}

// Closed reports whether Close was called.
func (c *Copies[R]) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close stops the renewals and returns the copies held, for a sink that
// removes them; it returns nil when called again.
func (c *Copies[R]) Close() map[string]*Copy[R] {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	held := c.held
	c.held = map[string]*Copy[R]{}
	c.mu.Unlock()
	c.keeper.Stop()
	return held
}
