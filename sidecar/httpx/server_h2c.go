package httpx

import (
	"net"
	"sync"
)

// h2Preface is how every HTTP/2 connection with prior knowledge starts.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// handoffListener is the listener net/http's HTTP/2 server accepts from:
// the HTTP/1.1 loop gives it the connections that opened with the HTTP/2
// preface.
type handoffListener struct {
	conns  chan net.Conn
	mu     sync.Mutex
	closed bool
	done   chan struct{}
}

func newHandoffListener() *handoffListener {
	return &handoffListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// give hands nc over; false means the listener is closed.
func (l *handoffListener) give(nc net.Conn) bool {
	select {
	case l.conns <- nc:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
	return nil
}

func (l *handoffListener) Addr() net.Addr { return handoffAddr{} }

type handoffAddr struct{}

func (handoffAddr) Network() string { return "handoff" }
func (handoffAddr) String() string  { return "handoff" }
