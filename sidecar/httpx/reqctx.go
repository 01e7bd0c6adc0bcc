package httpx

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// requestContext is the context of one HTTP/1.1 request: done when the
// client goes away or the handler returns. It replaces
// context.WithCancel, which on a proxy's path costs a context, a channel,
// a map of children and a derived context for every context.AfterFunc
// (the client's HTTP/1.1 pool registers one per request to cut a stalled
// upstream read short). Here Done's channel is made only when someone
// asks for it, and AfterFunc keeps its callbacks in the context itself;
// callers that know the AfterFunc method (the pool, and
// context.AfterFunc and context.With* through it) use it directly. It
// carries one value: the Server (ServerOf).
type requestContext struct {
	canceled atomic.Bool
	srv      *Server // ServerOf's answer

	mu     sync.Mutex
	err    error
	done   chan struct{} // made on demand
	funcs  []waitingFunc // waiting for the end; usually one, in inline
	inline [1]waitingFunc
	seq    uint64
}

type waitingFunc struct {
	id uint64
	f  func()
}

var _ context.Context = (*requestContext)(nil)

func (c *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Value knows one key: the Server the request came through (ServerOf).
func (c *requestContext) Value(key any) any {
	if _, ok := key.(serverKey); ok {
		return c.srv
	}
	return nil
}

func (c *requestContext) Err() error {
	if !c.canceled.Load() {
		return nil
	}
	return context.Canceled
}

func (c *requestContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

// AfterFunc runs f in its own goroutine once the context is done, as
// context.AfterFunc does; stop keeps it from running and reports whether
// it did.
func (c *requestContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.seq++
	id := c.seq
	if c.funcs == nil {
		c.funcs = c.inline[:0]
	}
	c.funcs = append(c.funcs, waitingFunc{id: id, f: f})
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, af := range c.funcs {
			if af.id == id {
				c.funcs = append(c.funcs[:i], c.funcs[i+1:]...)
				return true
			}
		}
		return false
	}
}

func (c *requestContext) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	c.canceled.Store(true)
	if c.done != nil {
		close(c.done)
	}
	funcs := c.funcs
	c.funcs = nil
	c.mu.Unlock()
	for _, af := range funcs {
		go af.f()
	}
}

func (c *requestContext) String() string { return "httpx.requestContext" }
