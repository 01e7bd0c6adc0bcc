//go:build linux

package pace

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// newSleeper locks the calling goroutine to its thread, cuts the thread's
// timer slack to 1 µs and returns a sleep in nanosleep, which wakes within
// microseconds of its deadline where Go's timers round up to a
// millisecond, and release, which puts the slack back and unlocks the
// thread.
//
// The thread goes back to the runtime rather than ending with the
// goroutine: a thread that ends fires the parent-death signal of every
// child process it forked (Pdeathsig belongs to the forking thread), and
// a plugin host in the same process starts its plugins with one, so a
// benchmark's pacer once killed the plugin it was measuring.
func newSleeper() (sleep func(until time.Time), release func()) {
	runtime.LockOSThread()
	_ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) // best effort: else the default 50 µs
	sleep = func(until time.Time) {
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
	release = func() {
		// Zero restores the thread's default slack; if that fails the
		// thread must not serve other goroutines with ours, so it stays
		// locked and ends with this goroutine.
		if unix.Prctl(unix.PR_SET_TIMERSLACK, 0, 0, 0, 0) == nil {
			runtime.UnlockOSThread()
		}
	}
	return sleep, release
}
