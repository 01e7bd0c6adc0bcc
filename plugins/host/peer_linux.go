package host

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// checkPeer refuses a Unix connection whose peer (the process that
// listened) is not process pid.
func checkPeer(c net.Conn, pid int) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("plugin connection: a %T, not a Unix socket", c)
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *unix.Ucred
	var credErr error
	if err := rc.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if credErr != nil {
		return fmt.Errorf("plugin connection: peer credentials: %w", credErr)
	}
	if int(cred.Pid) != pid {
		return fmt.Errorf("plugin connection: the socket belongs to process %d, not to the plugin (%d): refused", cred.Pid, pid)
	}
	return nil
}
