package httpx

import (
	"bufio"
	"errors"
	"net"
)

// CloseWrite half-closes w when it can (TCP connections and the
// transport's upgraded connections can), so that the peer reads EOF and
// may still answer; errors.ErrUnsupported otherwise.
func CloseWrite(w any) error {
	if cw, ok := w.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// BufferedConn is a connection taken over from a bufio.Reader: its reads
// first return what Br had already buffered past a head (an HTTP/2
// preface, the bytes a server sent behind its 101 answer, a request sent
// through a CONNECT tunnel), then go to the connection itself. CloseWrite
// passes a half-close on when the connection can.
type BufferedConn struct {
	net.Conn
	Br *bufio.Reader // nil once drained
}

// Read reads from Br while it holds bytes, then from the connection.
func (c *BufferedConn) Read(p []byte) (int, error) {
	if c.Br != nil {
		if c.Br.Buffered() > 0 {
			return c.Br.Read(p)
		}
		c.Br = nil
	}
	return c.Conn.Read(p)
}

// CloseWrite ends the sending side only, so the peer reads EOF and may
// still answer.
func (c *BufferedConn) CloseWrite() error { return CloseWrite(c.Conn) }
