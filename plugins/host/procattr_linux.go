package host

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the plugin in its own process group (so the host can
// kill it and anything it started in one go) and asks the kernel to kill it
// when the host dies, even by SIGKILL. Pdeathsig follows the thread that
// started the process; Go keeps its threads for the life of the process
// except for goroutines that exit locked to theirs, which nothing in a
// host's process may do (internal/pace gives its thread back for this
// reason), and the SDK also exits when it notices its parent is gone.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group the plugin leads; an error means it is
// already gone.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
