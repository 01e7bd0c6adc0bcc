//go:build !linux

package pace

import "time"

// newSleeper returns time.Sleep until a deadline: elsewhere than Linux the
// schedule is only as exact as Go's timers.
func newSleeper() func(until time.Time) {
	return func(until time.Time) { time.Sleep(time.Until(until)) }
}
