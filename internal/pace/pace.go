// Package pace keeps the schedule of an open-loop load generator: a slot
// every interval, each fired within tens of microseconds of its time.
//
// time.Sleep cannot do that for intervals under a millisecond: an
// otherwise idle Go process waits for its timers in epoll_wait, whose
// timeout is in whole milliseconds (golang/go#44343), so 2,000 requests a
// second turn into a pair of requests every millisecond, and latency under
// such a load measures the pairs' queueing. On Linux the schedule runs on
// a thread of its own that sleeps in nanosleep with a timer slack of 1 µs
// (the default is 50 µs); elsewhere it falls back to time.Sleep.
package pace

import "time"

// Run fires a slot at start, start+interval, ... up to (not including)
// end, and returns at end. A slot whose time passed by more than
// an interval before its turn came (the machine stalled) is fired with
// missed set instead of being sent late in a burst: the caller counts it
// and sends nothing, as fortio's -nocatchup does.
func Run(start time.Time, interval time.Duration, end time.Time, fire func(slot time.Time, missed bool)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(start, interval, func(slot time.Time, missed bool) bool {
			if !slot.Before(end) {
				return false
			}
			fire(slot, missed)
			return true
		})
	}()
	<-done
}

// run keeps the schedule on the calling goroutine, locked to its thread
// meanwhile: it sleeps until each slot and fires it, until fire says to
// stop.
func run(start time.Time, interval time.Duration, fire func(slot time.Time, missed bool) bool) {
	sleepUntil, release := newSleeper()
	defer release()
	for i := 0; ; i++ {
		slot := start.Add(time.Duration(i) * interval)
		sleepUntil(slot)
		if !fire(slot, time.Since(slot) > interval) {
			return
		}
	}
}
