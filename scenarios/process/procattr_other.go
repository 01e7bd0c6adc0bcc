//go:build unix && !linux

package process

import "syscall"

// procAttr gives a component its own process group, so that a Ctrl-C in
// the terminal reaches only the runner, which stops components in order.
// Only Linux can tie a child's life to its parent's (Pdeathsig): here a
// runner killed outright leaves its components running.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
