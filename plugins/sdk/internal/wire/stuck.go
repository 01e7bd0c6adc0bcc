package wire

import (
	"sync"
	"time"
)

// stuckWatch tells when the send in progress on a call stream has gone on
// stuckSend past its caller's context. One timer serves every send: it is
// re-armed only when a send must be checked earlier than it would fire, so
// a send costs two uncontended locks, not a timer (or a context.AfterFunc)
// of its own.
type stuckWatch struct {
	mu    sync.Mutex
	n     uint64    // the send in progress (0: none)
	at    time.Time // when it counts as stuck (zero: not known yet)
	armed time.Time // when the timer fires (zero: stopped)
	timer *time.Timer
}

func newStuckWatch(stuck func()) *stuckWatch {
	w := &stuckWatch{}
	w.timer = time.AfterFunc(time.Hour, func() {
		if w.fired() {
			stuck()
		}
	})
	w.timer.Stop()
	return w
}

// begin records that send n has started; at, when not zero, is when it
// will count as stuck.
func (w *stuckWatch) begin(n uint64, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n, w.at = n, time.Time{}
	w.armLocked(at)
}

// arm sets when send n counts as stuck, if it is still in progress.
func (w *stuckWatch) arm(n uint64, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == n {
		w.armLocked(at)
	}
}

func (w *stuckWatch) armLocked(at time.Time) {
	if at.IsZero() {
		return
	}
	w.at = at
	if w.armed.IsZero() || at.Before(w.armed) {
		w.armed = at
		w.timer.Reset(time.Until(at))
	}
}

// end records that the send in progress is over.
func (w *stuckWatch) end() {
	w.mu.Lock()
	w.n = 0
	w.mu.Unlock()
}

// fired reports whether the send in progress is stuck, re-arming the timer
// for a send that is not (yet).
func (w *stuckWatch) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = time.Time{}
	if w.n == 0 || w.at.IsZero() {
		return false
	}
	if d := time.Until(w.at); d > 0 {
		w.armed = w.at
		w.timer.Reset(d)
		return false
	}
	return true
}

func (w *stuckWatch) stop() { w.timer.Stop() }
