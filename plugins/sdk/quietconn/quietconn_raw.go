//go:build linux && (amd64 || arm64)

package quietconn

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// conn reads and writes its socket with raw recvfrom and sendto calls
// that carry MSG_DONTWAIT: they never block, whatever the socket's mode
// (a blocking raw call would hold its P where the runtime cannot preempt
// it, and stop the world at the next collection).
type conn struct {
	net.Conn
	rc  syscall.RawConn
	net string
}

// tcpConn is a wrapped TCP connection: io.Copy may still splice it.
type tcpConn struct{ *conn }

// Wrap returns c with its reads and writes made as raw system calls, when
// c is a TCP or Unix connection; other connections are returned as they
// are. Half-closes and SyscallConn go to the connection itself, and for
// TCP so do ReadFrom and WriteTo (kernel splicing). Other methods of
// *net.TCPConn and *net.UnixConn (SetKeepAlive, File, ...) are not
// reachable through the wrapper: set them before wrapping.
func Wrap(c net.Conn) net.Conn {
	var network string
	var rc syscall.RawConn
	var err error
	switch t := c.(type) {
	case *net.TCPConn:
		network = "tcp"
		rc, err = t.SyscallConn()
	case *net.UnixConn:
		network = "unix"
		rc, err = t.SyscallConn()
	default:
		return c
	}
	if err != nil {
		return c
	}
	w := &conn{Conn: c, rc: rc, net: network}
	if network == "tcp" {
		return tcpConn{w}
	}
	return w
}

func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)),
				syscall.MSG_DONTWAIT, 0, 0)
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
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("recvfrom", errno))
	case n == 0:
		return 0, io.EOF
	}
	raceWrote(p[:n])
	return n, nil
}

func (c *conn) Write(p []byte) (int, error) {
	raceWillRead(p)
	written := 0
	var errno syscall.Errno
	err := c.rc.Write(func(fd uintptr) bool {
		for written < len(p) {
			r, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[written])), uintptr(len(p)-written),
				syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
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
	switch {
	case err != nil:
		err = c.opError("write", err)
	case errno != 0:
		err = c.opError("write", os.NewSyscallError("sendto", errno))
	}
	return written, err
}

// opError reports err as a net.Conn's Read or Write would: an *OpError
// with op "read" or "write" (RawConn's own say "raw-read", "raw-write").
func (c *conn) opError(op string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: c.net, Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// CloseWrite and CloseRead half-close the connection.
func (c *conn) CloseWrite() error {
	return c.Conn.(interface{ CloseWrite() error }).CloseWrite()
}

func (c *conn) CloseRead() error {
	return c.Conn.(interface{ CloseRead() error }).CloseRead()
}

// SyscallConn gives the socket itself.
func (c *conn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// ReadFrom and WriteTo let io.Copy splice between TCP sockets in the kernel.
func (c tcpConn) ReadFrom(r io.Reader) (int64, error) {
	if q, ok := r.(tcpConn); ok {
		r = q.Conn
	}
	return c.Conn.(*net.TCPConn).ReadFrom(r)
}

func (c tcpConn) WriteTo(w io.Writer) (int64, error) {
	if q, ok := w.(tcpConn); ok {
		w = q.Conn
	}
	return c.Conn.(*net.TCPConn).WriteTo(w)
}
