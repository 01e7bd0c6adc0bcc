package httpx

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

	size  atomic.Int32 // len(known), so the common empty case takes no lock
	mu    sync.Mutex
	known map[string]refusal
}

// refusal is what refusals keeps of one endpoint.
type refusal struct {
	until time.Time
	why   string
}

func newRefusals(ttl time.Duration, learned func(addr, why string)) *refusals {
	return &refusals{ttl: ttl, learned: learned, now: time.Now, known: map[string]refusal{}}
}

// has reports whether addr refused h2c less than ttl ago.
func (r *refusals) has(addr string) bool {
	_, ok := r.get(addr)
	return ok
}

// get returns how addr refused h2c, if it did less than ttl ago.
func (r *refusals) get(addr string) (why string, ok bool) {
	if r.size.Load() == 0 {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.known[addr]
	if ok && !r.now().Before(k.until) {
		delete(r.known, addr)
		r.size.Store(int32(len(r.known)))
		return "", false
	}
	return k.why, ok
}

// add remembers that addr refused h2c, for why; the first time (or the
// first since it expired) it is reported.
func (r *refusals) add(addr, why string) {
	now := r.now()
	r.mu.Lock()
	k, known := r.known[addr]
	fresh := !known || !now.Before(k.until)
	if !known && len(r.known) >= maxRefusals {
		r.evictLocked(now)
	}
	r.known[addr] = refusal{until: now.Add(r.ttl), why: why}
	r.size.Store(int32(len(r.known)))
	r.mu.Unlock()
	if fresh && r.learned != nil {
		r.learned(addr, why)
	}
}

// evictLocked makes room for one entry: expired ones go, and if none had,
// one chosen by map order.
func (r *refusals) evictLocked(now time.Time) {
	for a, k := range r.known {
		if !now.Before(k.until) {
			delete(r.known, a)
		}
	}
	for a := range r.known {
		if len(r.known) < maxRefusals {
			return
		}
		delete(r.known, a)
	}
}
