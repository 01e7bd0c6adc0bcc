package host

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// checkPeer refuses a Unix connection whose peer (the process that
// listened) is not process pid. (macOS; the Linux version is the one the
// tests run.)
func checkPeer(c net.Conn, pid int) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("plugin connection: a %T, not a Unix socket", c)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var peer int
	var peerErr error
	if err := rc.Control(func(fd uintptr) {
		peer, peerErr = unix.GetsockoptInt(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERPID)
	}); err != nil {
		return err
	}
	if peerErr != nil {
		return fmt.Errorf("plugin connection: peer process: %w", peerErr)
	}
	if peer != pid {
		return fmt.Errorf("plugin connection: the socket belongs to process %d, not to the plugin (%d): refused", peer, pid)
	}
	return nil
}
