package procstate

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestWaitStopped(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sleep: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if AllThreadsStopped(cmd.Process.Pid) {
		t.Fatal("a running process reads as stopped")
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := WaitStopped(cmd.Process.Pid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if !AllThreadsStopped(cmd.Process.Pid) {
		t.Fatal("stopped process does not read as stopped")
	}
	cmd.Process.Signal(syscall.SIGCONT)
	if err := WaitStopped(cmd.Process.Pid, 50*time.Millisecond); err == nil {
		t.Fatal("a resumed process reads as stopped")
	}
}
