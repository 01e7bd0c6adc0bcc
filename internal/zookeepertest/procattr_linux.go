package zookeepertest

import "syscall"

// procAttr makes the server die with the test binary: a test that panics
// (a timeout) runs no cleanup, and a JVM left behind would hold its port
// and memory on a shared machine. The signal is tied to the thread that
// started the server, and Go ends a thread only when a goroutine locked
// to it exits, which the test binary's goroutines do not.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
