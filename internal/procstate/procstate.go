// Package procstate reads a process's scheduling state from /proc.
//
// SIGSTOP reaches each thread of a process asynchronously, so a request that
// arrives just after kill(2) returned may still be answered. Code that pauses
// a process and then relies on it not answering waits with WaitStopped.
package procstate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// WaitStopped polls until every thread of pid is stopped, or fails after
// timeout. Without /proc (not Linux) it returns at once: the signal is all
// that can be done there.
func WaitStopped(pid int, timeout time.Duration) error {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for !AllThreadsStopped(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d did not stop within %v", pid, timeout)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// AllThreadsStopped reports whether every thread of pid is in state T
// (stopped) or t (traced).
func AllThreadsStopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			return false
		}
		// "pid (comm) S ...": the state follows the last ')'.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 || i+2 >= len(data) || (data[i+2] != 'T' && data[i+2] != 't') {
			return false
		}
	}
	return true
}
