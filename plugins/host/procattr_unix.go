//go:build unix && !linux

package host

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the plugin in its own process group. Without Linux's
// Pdeathsig the SDK's parent watch ends plugins whose host died.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group the plugin leads.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
