package breaker

import (
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/table"
)

// State is a breaker state.
type State int

// States, in the order of the breaker_state metric values.
const (
	Closed State = iota
	HalfOpen
	Open
)

func (s State) String() string {
	switch s {
	case HalfOpen:
		return "half_open"
	case Open:
		return "open"
	}
	return "closed"
}

const buckets = 10

// circuit is one service's breaker.
type circuit struct {
	mu          sync.Mutex
	state       State
	consecutive int
	openedAt    time.Time
	probes      int // probes let through while half-open
	successes   int // probe successes while half-open
	bucketSize  time.Duration
	window      [buckets]struct {
		start           int64
		total, failures int
	}
}

// allow reports whether a request may go through and whether it is a probe.
func (c *circuit) allow(now time.Time, p *table.Breaker) (ok, probe bool, changed State, didChange bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case Closed:
		return true, false, 0, false
	case Open:
		if now.Sub(c.openedAt) < p.OpenDuration {
			return false, false, 0, false
		}
		c.state, c.probes, c.successes = HalfOpen, 0, 0
		didChange, changed = true, HalfOpen
	}
	if c.probes < p.HalfOpenRequests {
		c.probes++
		return true, true, changed, didChange
	}
	return false, false, changed, didChange
}

// record counts an outcome and returns the new state if it changed.
func (c *circuit) record(now time.Time, p *table.Breaker, failure, probe bool) (State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.state {
	case HalfOpen:
		if !probe {
			return 0, false // a request let through before the breaker opened
		}
		if failure {
			c.trip(now)
			return Open, true
		}
		c.successes++
		if c.successes >= p.HalfOpenRequests {
			c.reset()
			return Closed, true
		}
		return 0, false
	case Open:
		return 0, false
	}
	if failure {
		c.consecutive++
	} else {
		c.consecutive = 0
	}
	total, failures := c.count(now, p.Window, failure)
	if p.ConsecutiveFailures > 0 && c.consecutive >= p.ConsecutiveFailures ||
		p.ErrorRatePercent > 0 && total >= p.MinRequests && float64(failures)*100 >= p.ErrorRatePercent*float64(total) {
		c.trip(now)
		return Open, true
	}
	return 0, false
}

func (c *circuit) trip(now time.Time) {
	c.state, c.openedAt, c.probes, c.successes = Open, now, 0, 0
}

func (c *circuit) reset() {
	c.state, c.consecutive, c.probes, c.successes = Closed, 0, 0, 0
	c.resetWindow()
}

func (c *circuit) resetWindow() {
	for i := range c.window {
		c.window[i].start, c.window[i].total, c.window[i].failures = 0, 0, 0
	}
}

// count adds one outcome to the sliding window and returns its totals.
func (c *circuit) count(now time.Time, window time.Duration, failure bool) (total, failures int) {
	size := window / buckets
	if size != c.bucketSize {
		c.resetWindow() // the policy changed the window: start counting afresh
		c.bucketSize = size
	}
	slot := now.UnixNano() / int64(size)
	b := &c.window[slot%buckets]
	if b.start != slot {
		b.start, b.total, b.failures = slot, 0, 0
	}
	b.total++
	if failure {
		b.failures++
	}
	for i := range c.window {
		if slot-c.window[i].start < buckets {
			total += c.window[i].total
			failures += c.window[i].failures
		}
	}
	return total, failures
}

// current returns the state.
func (c *circuit) current() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}
