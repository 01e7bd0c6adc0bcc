package httpx

import (
	"context"
	"time"
)

// The cap on connections per address (ClientOptions.MaxConnsPerHost), as
// net/http's Transport has it: connections idle, in use and being dialled
// count; a request that finds its address at the cap waits until one of
// them comes back to the pool or closes. A connection handed over by a
// 101 answer leaves the pool and the count. Without a cap none of this
// runs: the pool then keeps no counts.

// waitLocked queues a request for addr and returns the channel that wakes
// it. p.mu is held.
func (p *h1pool) waitLocked(addr string) chan struct{} {
	wake := make(chan struct{}, 1)
	p.waiting[addr] = append(p.waiting[addr], wake)
	return wake
}

// await waits for wake, or fails when ctx ends or deadline passes. A wake
// that comes as it gives up is passed on to the next request in line.
func (p *h1pool) await(ctx context.Context, addr string, wake chan struct{}, deadline time.Time) error {
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	var err error
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-expired:
		err = context.DeadlineExceeded
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	queue := p.waiting[addr]
	for i, w := range queue {
		if w == wake {
			p.waiting[addr] = append(queue[:i], queue[i+1:]...)
			if len(p.waiting[addr]) == 0 {
				delete(p.waiting, addr)
			}
			return err
		}
	}
	p.wakeLocked(addr) // it was woken meanwhile: the wake is not lost
	return err
}

// wakeLocked wakes the longest-waiting request for addr, if any. p.mu is
// held.
func (p *h1pool) wakeLocked(addr string) {
	queue := p.waiting[addr]
	if len(queue) == 0 {
		return
	}
	queue[0] <- struct{}{} // buffered, and each is woken once
	if len(queue) == 1 {
		delete(p.waiting, addr)
	} else {
		p.waiting[addr] = queue[1:]
	}
}

// release gives back a slot of addr's cap: a connection closed, left the
// pool, or was never made.
func (p *h1pool) release(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(addr)
}

func (p *h1pool) releaseLocked(addr string) {
	if p.open[addr]--; p.open[addr] <= 0 {
		delete(p.open, addr)
	}
	p.wakeLocked(addr)
}

// leaveLocked is leave with p.mu held.
func (p *h1pool) leaveLocked(c *h1conn) {
	if c.counted {
		c.counted = false
		p.releaseLocked(c.addr)
	}
}
