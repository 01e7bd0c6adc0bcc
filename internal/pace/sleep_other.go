//go:build !linux

package pace

import "time"

// newSleeper returns time.Sleep until a deadline, and nothing to release:
// elsewhere than Linux the schedule is only as exact as Go's timers.
func newSleeper() (sleep func(until time.Time), release func()) {
	return func(until time.Time) { time.Sleep(time.Until(until)) }, func() {}
}
