package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// netServer is net/http's server in the HTTP/1.1 loop's place
// (ServerOptions.NetHTTP): the reference the loop is checked against,
// made to keep the loop's promises where net/http's differ:
//
//   - ReadBodyTimeout bounds a body of declared length only (net/http's
//     ReadTimeout would bound the head and every body): serveHTTP2 sets
//     the read deadline through the ResponseController, as for HTTP/2.
//   - MaxHeaderBytes counts the header list as HTTP/2 does (net/http
//     counts an HTTP/1.1 head's bytes): a longer list gets 431.
//   - A hijacked connection whose handler still runs (a tunnel) is in
//     flight: Shutdown waits for it and Close cuts it (net/http forgets
//     hijacked connections).
//   - ServeConn serves a connection a handler took over as one of the
//     server's, with its own handler.
type netServer struct {
	s  *Server
	hs *http.Server
	// inner is where ServeConn hands connections to hs.
	inner    *handoffListener
	innerRun sync.Once

	mu    sync.Mutex
	taken map[net.Conn]struct{} // hijacked, their handler still running
}

// netConnKey is the context key of a request's connection on netServer.
type netConnKey struct{}

func newNetServer(s *Server) *netServer {
	n := &netServer{s: s, inner: newHandoffListener(), taken: map[net.Conn]struct{}{}}
	n.hs = s.newHTTPServer(http.HandlerFunc(n.serveHTTP))
	n.hs.ConnContext = func(ctx context.Context, nc net.Conn) context.Context {
		return context.WithValue(withConnHandler(ctx, nc), netConnKey{}, nc)
	}
	n.hs.ConnState = func(nc net.Conn, st http.ConnState) {
		if st == http.StateHijacked {
			n.mu.Lock()
			n.taken[nc] = struct{}{}
			n.mu.Unlock()
		}
	}
	return n
}

func (n *netServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 && headerListSize(r) > n.s.opts.MaxHeaderBytes {
		w.Header().Set("Connection", "close")
		http.Error(w, "431 Request Header Fields Too Large", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	nc, _ := r.Context().Value(netConnKey{}).(net.Conn)
	defer n.release(nc)
	n.s.serveHTTP2(w, r)
}

// release forgets nc as taken: its handler returned.
func (n *netServer) release(nc net.Conn) {
	n.mu.Lock()
	delete(n.taken, nc)
	n.mu.Unlock()
}

func (n *netServer) serve(ln net.Listener) error { return n.hs.Serve(ln) }

// serveConn serves nc with h on hs until nc closes.
func (n *netServer) serveConn(nc net.Conn, h http.Handler) {
	n.innerRun.Do(func() {
		go func() { _ = n.hs.Serve(n.inner) }() // ends with ErrServerClosed when hs shuts down
	})
	done := make(chan struct{})
	c := &closeSignalConn{Conn: nc, done: done}
	if n.s.closing.Load() || !n.inner.give(&handlerConn{Conn: c, h: h}) {
		_ = nc.Close() // the server is closing
		return
	}
	<-done
}

func (n *netServer) shutdown(ctx context.Context) error {
	n.s.closing.Store(true)
	err := n.hs.Shutdown(ctx)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !n.noneTaken() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return err
}

func (n *netServer) noneTaken() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.taken) == 0
}

func (n *netServer) close() error {
	n.s.closing.Store(true)
	err := n.hs.Close()
	n.mu.Lock()
	for nc := range n.taken {
		_ = nc.Close() // cutting it is the point
	}
	n.mu.Unlock()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// closeSignalConn tells ServeConn when net/http is done with it.
type closeSignalConn struct {
	net.Conn
	done chan struct{}
	once sync.Once
}

func (c *closeSignalConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { close(c.done) })
	return err
}

// CloseWrite passes a half-close on, as the connection it wraps does.
func (c *closeSignalConn) CloseWrite() error { return CloseWrite(c.Conn) }
