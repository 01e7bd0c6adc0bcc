//go:build !linux

package main

import "time"

// newPacer returns time.Sleep until a deadline: elsewhere than Linux the
// benchmark's schedule is only as exact as Go's timers.
func newPacer() func(until time.Time) {
	return func(until time.Time) { time.Sleep(time.Until(until)) }
}
