package process

import "syscall"

// procAttr gives a component its own process group, so that a Ctrl-C in
// the terminal reaches only the runner, which stops components in order;
// Pdeathsig kills the component if the runner dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
