//go:build linux && (amd64 || arm64)

package httpx

import (
	"syscall"
	"unsafe"
)

// peekSyscall peeks at one byte without blocking (MSG_DONTWAIT), as a raw
// system call: syscall.Recvfrom enters the runtime's system-call state,
// which wakes Go's monitor thread when the process was idle, and that was
// the sidecar's last such wake-up per request (see internal/quietconn).
// It returns the error (EAGAIN: nothing to read, the connection is alive);
// nil when there was a byte or an end.
func peekSyscall(fd uintptr, buf []byte) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)),
		uintptr(syscall.MSG_PEEK|syscall.MSG_DONTWAIT), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
