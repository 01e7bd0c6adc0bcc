package sdk

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// quietConn reads and writes a Unix socket with raw system calls. The
// socket is non-blocking (Go's netpoller waits for it), so each call
// returns at once, as RawSyscall requires; unlike Read and Write on the
// net.Conn, they do not tell the runtime a system call began. Telling it
// wakes Go's monitor thread (sysmon) whenever the process was idle, which
// for a plugin at a few thousand calls a second is every call: two more
// thread wake-ups per call, a fifth of the plugin's CPU
// (docs/benchmarks.md, "Plugins").
type quietConn struct {
	net.Conn
	rc syscall.RawConn
}

// quiet wraps conn when it is a Unix socket; other connections are
// returned as they are.
func quiet(conn net.Conn) net.Conn {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return conn
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return conn
	}
	return &quietConn{Conn: conn, rc: rc}
}

func (c *quietConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until readable
			}
			n, errno = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "unix", Addr: c.LocalAddr(), Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	raceAcquireIO()
	return n, nil
}

func (c *quietConn) Write(p []byte) (int, error) {
	raceReleaseIO()
	written := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[written])), uintptr(len(p)-written))
			switch e {
			case 0:
				written += int(r)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // wait until writable
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = &net.OpError{Op: "write", Net: "unix", Addr: c.LocalAddr(), Err: errno}
	}
	return written, err
}
