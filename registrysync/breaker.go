package registrysync

import (
	"fmt"
	"time"
)

// breaker is a flow's deletion breaker (issue rule 4): deletions that
// would remove more than a share of the flow's copies within a window
// are not done; the flow's deletions wait, adds and updates go on, until
// a pass would delete few enough again or an operator releases them.
type breaker struct {
	cfg BreakerConfig
	// deleted are the times of the deletions within the window.
	deleted []time.Time
	open    bool
	since   time.Time
	held    int
	reason  string
	// released lets the next pass delete whatever it plans.
	released bool
	trips    int
}

// allow decides whether a pass may delete n of the flow's copies, of
// which there are copies now. A pass allowed while the breaker is open
// closes it: passes are whole while it is open, so n is every deletion
// the flow has left to do.
func (b *breaker) allow(n, copies int, now time.Time) bool {
	b.prune(now)
	if b.released {
		b.released, b.deleted = false, nil
		b.close()
		return true
	}
	limit := max(b.cfg.MinDeletes, int(b.cfg.MaxDeleteShare*float64(copies+len(b.deleted))))
	if b.cfg.MaxDeleteShare >= 1 || len(b.deleted)+n <= limit {
		b.close()
		return true
	}
	if !b.open {
		b.open, b.since = true, now
		b.trips++
	}
	b.held = n
	b.reason = fmt.Sprintf("%d deletions (and %d in the last %v) of %d copies exceed %d, %.0f%% of the flow's copies (minimum %d)",
		n, len(b.deleted), b.cfg.Window, copies+len(b.deleted), limit, 100*b.cfg.MaxDeleteShare, b.cfg.MinDeletes)
	return false
}

// record counts n deletions done at now.
func (b *breaker) record(n int, now time.Time) {
	for range n {
		b.deleted = append(b.deleted, now)
	}
}

func (b *breaker) prune(now time.Time) {
	i := 0
	for i < len(b.deleted) && now.Sub(b.deleted[i]) > b.cfg.Window {
		i++
	}
	b.deleted = b.deleted[i:]
}

func (b *breaker) close() {
	b.open, b.held, b.reason, b.since = false, 0, "", time.Time{}
}
