package host

import "golang.org/x/sys/unix"

// peerPID is the process at the other end of Unix socket fd (for a
// connected socket, the one that listened).
func peerPID(fd int) (int, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, err
	}
	return int(cred.Pid), nil
}
