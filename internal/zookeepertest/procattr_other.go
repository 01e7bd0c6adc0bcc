//go:build !linux

package zookeepertest

import "syscall"

// procAttr: without Linux's parent-death signal, a server outlives a test
// binary that panics; Stop and the test's cleanup end it otherwise.
func procAttr() *syscall.SysProcAttr { return nil }
