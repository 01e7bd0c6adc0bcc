//go:build linux && (amd64 || arm64)

package quietconn

import (
	"errors"
	"io"
	"net"
	"syscall"
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
	n, err := readRaw(c.rc, p, "recvfrom", recvfrom)
	if err != nil && err != io.EOF {
		err = c.opError("read", err)
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	n, err := writeRaw(c.rc, p, "sendto", sendto)
	if err != nil {
		err = c.opError("write", err)
	}
	return n, err
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
