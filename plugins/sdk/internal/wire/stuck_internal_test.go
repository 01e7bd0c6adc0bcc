package wire

import (
	"testing"
	"time"
)

func TestStuckWatch(t *testing.T) {
	stuck := make(chan struct{}, 4)
	w := newStuckWatch(func() { stuck <- struct{}{} })
	defer w.stop()
	expect := func(want bool, what string) {
		t.Helper()
		select {
		case <-stuck:
			if !want {
				t.Fatalf("%s: reported stuck", what)
			}
		case <-time.After(300 * time.Millisecond):
			if want {
				t.Fatalf("%s: not reported stuck", what)
			}
		}
	}

	// A send that ends in time, then one that does not: the timer armed
	// for the first must serve the second.
	w.begin(1, time.Now().Add(20*time.Millisecond))
	w.end()
	expect(false, "send over before its time")
	w.begin(2, time.Now().Add(50*time.Millisecond))
	w.begin(3, time.Now().Add(100*time.Millisecond)) // later than armed: no re-arm
	expect(true, "send past its time")
	w.end()

	// Without a deadline the time is set when the context ends, and only
	// for the send still in progress.
	w.begin(4, time.Time{})
	expect(false, "send with no time yet")
	w.end()
	w.arm(4, time.Now()) // the context ended after the send did
	expect(false, "time set after the send ended")
	w.begin(5, time.Time{})
	w.arm(5, time.Now().Add(10*time.Millisecond))
	expect(true, "send past the time set when its context ended")
}
