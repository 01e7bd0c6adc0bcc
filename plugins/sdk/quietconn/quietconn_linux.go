package quietconn

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// conn reads and writes a non-blocking socket with raw system calls.
type conn struct {
	net.Conn
	rc  syscall.RawConn
	net string
}

// Wrap returns c with its reads and writes made as raw system calls on
// its non-blocking socket (Go's netpoller still does the waiting), when c
// is a TCP or Unix connection; other connections are returned as they
// are. Half-closes, SyscallConn and kernel splicing (ReadFrom, WriteTo)
// go to the connection itself.
func Wrap(c net.Conn) net.Conn {
	sc, ok := c.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok {
		return c
	}
	var network string
	switch c.(type) {
	case *net.TCPConn:
		network = "tcp"
	case *net.UnixConn:
		network = "unix"
	default:
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &conn{Conn: c, rc: rc, net: network}
}

func (c *conn) Read(p []byte) (int, error) {
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
		return 0, c.opError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	raceAcquire()
	return n, nil
}

func (c *conn) Write(p []byte) (int, error) {
	raceRelease()
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
		err = c.opError("write", errno)
	}
	return written, err
}

func (c *conn) opError(op string, errno syscall.Errno) error {
	return &net.OpError{Op: op, Net: c.net, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: errno}
}

// CloseWrite half-closes the connection.
func (c *conn) CloseWrite() error {
	return c.Conn.(interface{ CloseWrite() error }).CloseWrite()
}

// SyscallConn gives the socket itself.
func (c *conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// ReadFrom and WriteTo let io.Copy splice between sockets in the kernel.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if q, ok := r.(*conn); ok {
		r = q.Conn
	}
	return c.Conn.(io.ReaderFrom).ReadFrom(r)
}

func (c *conn) WriteTo(w io.Writer) (int64, error) {
	if q, ok := w.(*conn); ok {
		w = q.Conn
	}
	return c.Conn.(io.WriterTo).WriteTo(w)
}
