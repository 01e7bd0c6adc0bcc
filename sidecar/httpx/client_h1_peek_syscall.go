//go:build unix && !(linux && (amd64 || arm64))

package httpx

import "syscall"

// peekSyscall peeks at one byte without blocking (MSG_DONTWAIT). It
// returns the error (EAGAIN: nothing to read, the connection is alive);
// nil when there was a byte or an end.
func peekSyscall(fd uintptr, buf []byte) error {
	_, _, err := syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err
}
