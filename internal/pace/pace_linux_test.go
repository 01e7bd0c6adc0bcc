package pace

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The main goroutine keeps the main thread, which the runtime never ends
// (a goroutine that exits locked to it only parks it): the pacers below
// run on other threads, which a locked exit does end.
func init() { runtime.LockOSThread() }

// TestRunGivesItsThreadBack: the pacer's thread outlives the schedule. A
// thread that ends fires the parent-death signal of the processes it
// forked, which killed a plugin its host had started from that thread.
func TestRunGivesItsThreadBack(t *testing.T) {
	var tid int
	start := time.Now()
	Run(start, time.Millisecond, start.Add(5*time.Millisecond), func(time.Time, bool) { tid = unix.Gettid() })
	if tid == os.Getpid() {
		t.Fatal("the pacer ran on the main thread, which never ends: the test proves nothing")
	}
	time.Sleep(50 * time.Millisecond) // an ending thread is gone well within this
	if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); err != nil {
		t.Errorf("the pacer's thread %d ended with the schedule: %v", tid, err)
	}
}
