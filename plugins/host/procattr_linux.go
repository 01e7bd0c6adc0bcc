package host

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the plugin in its own process group (so the host can
// kill it and anything it started in one go) and asks the kernel to kill it
// when the host dies, even by SIGKILL. Pdeathsig follows the thread that
// started the process, so the host forks on a thread it keeps until the
// plugin is gone (onForkThread); the SDK also exits when it notices its
// parent is gone.
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
