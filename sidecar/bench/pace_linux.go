//go:build linux

package main

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// newPacer returns a sleep that ends within tens of microseconds of its
// deadline. time.Sleep cannot: an otherwise idle Go process waits for its
// timers in epoll_wait, whose timeout is in whole milliseconds, so a
// 500 µs schedule (2,000 rps) turns into a pair of requests every
// millisecond (golang/go#44343). This sleep runs on the caller's thread,
// locked to it, with the thread's timer slack cut from the default 50 µs
// to 1 µs: call it from a goroutine of its own, which ends the thread
// when it returns.
func newPacer() func(until time.Time) {
	runtime.LockOSThread()                             // never unlocked: the thread goes with the goroutine
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) // best effort: the default slack is 50 µs
	return func(until time.Time) {
		for {
			d := time.Until(until)
			if d <= 0 {
				return
			}
			ts := unix.NsecToTimespec(int64(d))
			if err := unix.Nanosleep(&ts, nil); err != unix.EINTR {
				return
			}
		}
	}
}
