//go:build linux

package pace

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// newSleeper locks the calling goroutine to its thread for good (the
// thread ends with the goroutine), cuts the thread's timer slack to 1 µs
// and returns a sleep in nanosleep, which wakes within microseconds of its
// deadline where Go's timers round up to a millisecond.
func newSleeper() func(until time.Time) {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) // best effort: else the default 50 µs
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
