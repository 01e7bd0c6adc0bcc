package transport

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxRefusals bounds how many endpoints refusals remembers: beyond it,
// adding one forgets expired entries, then any one.
const maxRefusals = 1024

// refusals remembers the endpoints found not to speak h2c, each for ttl,
// so that requests to them go over HTTP/1.1 (or fail, for gRPC) without
// a new connection per request, and an app that gains h2c later is tried
// again. Learning one is reported once, through learned, not per request.
type refusals struct {
	ttl     time.Duration
	learned func(addr, why string)
	now     func() time.Time

	size  atomic.Int32 // len(until), so the common empty case takes no lock
	mu    sync.Mutex
	until map[string]time.Time
}

func newRefusals(ttl time.Duration, learned func(addr, why string)) *refusals {
	return &refusals{ttl: ttl, learned: learned, now: time.Now, until: map[string]time.Time{}}
}

// has reports whether addr refused h2c less than ttl ago.
func (r *refusals) has(addr string) bool {
	if r.size.Load() == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.until[addr]
	if ok && !r.now().Before(until) {
		delete(r.until, addr)
		r.size.Store(int32(len(r.until)))
		return false
	}
	return ok
}

// add remembers that addr refused h2c, for why; the first time (or the
// first since it expired) it is reported.
func (r *refusals) add(addr, why string) {
	now := r.now()
	r.mu.Lock()
	until, known := r.until[addr]
	fresh := !known || !now.Before(until)
	if !known && len(r.until) >= maxRefusals {
		r.evictLocked(now)
	}
	r.until[addr] = now.Add(r.ttl)
	r.size.Store(int32(len(r.until)))
	r.mu.Unlock()
	if fresh && r.learned != nil {
		r.learned(addr, why)
	}
}

// evictLocked makes room for one entry: expired ones go, and if none had,
// one chosen by map order.
func (r *refusals) evictLocked(now time.Time) {
	for a, until := range r.until {
		if !now.Before(until) {
			delete(r.until, a)
		}
	}
	for a := range r.until {
		if len(r.until) < maxRefusals {
			return
		}
		delete(r.until, a)
	}
}
