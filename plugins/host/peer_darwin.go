package host

import "golang.org/x/sys/unix"

// peerPID is the process at the other end of Unix socket fd (macOS; the
// Linux version is the one the tests run).
func peerPID(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_LOCAL, unix.LOCAL_PEERPID)
}
