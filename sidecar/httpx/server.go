package httpx

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/internal/quietconn"
)

// ServerOptions are the limits every sidecar listener shares.
type ServerOptions struct {
	// ReadHeaderTimeout bounds reading request headers (default 10s).
	ReadHeaderTimeout time.Duration
	// ReadBodyTimeout bounds reading a request body of declared length
	// (Content-Length), from the end of the head to the body's last byte;
	// a caller that takes longer is answered 408 and, on HTTP/1.1, its
	// connection closed. Bodies of unknown length (HTTP/1.1 chunked,
	// HTTP/2 streams without Content-Length: gRPC) are streams and not
	// bounded (default 30s).
	ReadBodyTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections (default 120s).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header fields, counted as HTTP/2
	// counts a header list (each field's name and value plus 32 bytes),
	// so that it also bounds their number; HTTP/1.1's request line may
	// take 4 KiB beyond it, and HTTP/2 320 bytes, as in net/http. Above
	// it the answer is 431 (default 64 KiB).
	MaxHeaderBytes int
	// TunnelIdleTimeout closes an upgraded connection (WebSocket) or a
	// CONNECT tunnel after this long without a byte either way (default
	// 0: never; tunnels end when their ends close them, or at drain).
	TunnelIdleTimeout time.Duration
	Logger            *slog.Logger
	// NetHTTP serves with net/http's server instead of the HTTP/1.1 loop:
	// the reference the loop is checked against (sidecar config
	// runtime.http: nethttp). The limits above mean the same there
	// (netServer).
	NetHTTP bool

	// watchAfter overrides watchAfter (tests).
	watchAfter time.Duration
}

func (o ServerOptions) withDefaults() ServerOptions {
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.ReadBodyTimeout <= 0 {
		o.ReadBodyTimeout = 30 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 120 * time.Second
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.watchAfter <= 0 {
		o.watchAfter = watchAfter
	}
	return o
}

// Server serves one sidecar listener: HTTP/1.1 on its own connection loop
// and HTTP/2 with prior knowledge (h2c, what gRPC clients send in
// cleartext) through net/http.
//
// The HTTP/1.1 loop exists because a proxy pays net/http's per-request
// costs twice per hop: a goroutine that watches every connection between
// requests, a response object and its buffers per request, a write for
// the head and another for the body. Here the handler runs on the
// connection's goroutine, buffers live as long as the connection, a
// response leaves in one write, and a request is watched for its client
// going away only once it has run for a while (watchAfter), when the
// watch costs nothing next to the request. Requests are parsed by
// net/http's own parser (http.ReadRequest), so framing and header rules
// stay the standard library's.
type Server struct {
	handler http.Handler
	opts    ServerOptions
	logger  *slog.Logger

	h2    *http.Server
	h2ln  *handoffListener
	h2run sync.Once

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   atomic.Bool // Shutdown or Close called
	h2done    chan struct{}

	// net, when set, serves in the loop's place (ServerOptions.NetHTTP).
	net *netServer
}

// NewServer returns a server for handler.
func NewServer(handler http.Handler, opts ServerOptions) *Server {
	opts = opts.withDefaults()
	s := &Server{handler: handler, opts: opts, logger: opts.Logger,
		listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}, h2done: make(chan struct{})}
	if opts.NetHTTP {
		s.net = newNetServer(s)
		return s
	}
	s.h2 = s.newHTTPServer(http.HandlerFunc(s.serveHTTP2))
	s.h2.Protocols.SetHTTP1(false)
	s.h2ln = newHandoffListener()
	return s
}

// newHTTPServer is a net/http server with the limits of s, serving h2c
// with prior knowledge: the HTTP/2 server of the HTTP/1.1 loop, or the
// whole server with ServerOptions.NetHTTP. Its requests know s
// (ServerOf), and a connection of ServeConn's its own handler.
func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	opts := s.opts
	return &http.Server{
		Handler:           h,
		BaseContext:       func(net.Listener) context.Context { return context.WithValue(context.Background(), serverKey{}, s) },
		ConnContext:       withConnHandler,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		// net/http's HTTP/2 server advertises and enforces this (plus 320
		// bytes) as SETTINGS_MAX_HEADER_LIST_SIZE, answering 431 above it;
		// its HTTP/1.1 server bounds a head's bytes with it (plus 4 KiB).
		MaxHeaderBytes: opts.MaxHeaderBytes,
		Protocols:      p,
		HTTP2: &http.HTTP2Config{
			// Each stream runs a handler and an upstream request. net/http
			// runs at most this many handlers per connection and closes a
			// connection that queues four times as many (rapid reset,
			// CVE-2023-44487); 250 is its default, written out so it shows.
			MaxConcurrentStreams: maxConcurrentStreams,
		},
		ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug),
	}
}

// serverKey is the context key of ServerOf.
type serverKey struct{}

// ServerOf returns the Server r came through, or nil: a handler that
// takes a connection over (CONNECT, upgrades) finds the server's limits
// and ServeConn there.
func ServerOf(r *http.Request) *Server {
	s, _ := r.Context().Value(serverKey{}).(*Server)
	return s
}

// Options returns the server's options, defaults applied.
func (s *Server) Options() ServerOptions { return s.opts }

// Draining reports whether Shutdown or Close was called.
func (s *Server) Draining() bool { return s.closing.Load() }

// Handler is the handler the server runs.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown or Close, then returns
// http.ErrServerClosed; other accept failures end it with their error.
func (s *Server) Serve(ln net.Listener) error {
	if s.net != nil {
		return s.net.serve(ln)
	}
	if !s.track(ln) {
		_ = ln.Close() // closed before it started
		return http.ErrServerClosed
	}
	defer s.untrack(ln)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: back off, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger.Warn("accept failed; retrying", "error", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		c := s.newConn(quietconn.Wrap(nc))
		if c == nil {
			_ = nc.Close() // the server is closing
			continue
		}
		go c.serve()
	}
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
}

// serveH2 hands a connection that opened with the HTTP/2 preface to
// net/http's server, started on first use; h, when set, serves its
// requests in place of the server's handler.
func (s *Server) serveH2(nc net.Conn, h http.Handler) {
	if h != nil {
		nc = &handlerConn{Conn: nc, h: h}
	}
	s.h2run.Do(func() {
		go func() {
			defer close(s.h2done)
			_ = s.h2.Serve(s.h2ln) // ends with ErrServerClosed when we shut it down
		}()
	})
	if !s.h2ln.give(nc) {
		_ = nc.Close() // the server is closing
	}
}

// Shutdown stops accepting, closes idle connections, and waits for the
// requests in flight to finish (connections close after their response;
// an upgraded connection or a CONNECT tunnel is in flight until it ends)
// or for ctx to end, whichever comes first; then it returns ctx's error,
// and Close cuts what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.net != nil {
		return s.net.shutdown(ctx)
	}
	s.closeListeners()
	h2err := make(chan error, 1)
	go func() { h2err <- s.shutdownH2(ctx) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() {
			break
		}
		select {
		case <-ctx.Done():
			<-h2err
			return ctx.Err()
		case <-tick.C:
		}
	}
	return <-h2err
}

func (s *Server) shutdownH2(ctx context.Context) error {
	s.h2run.Do(func() { close(s.h2done) }) // never started: nothing to wait for
	s.h2ln.Close()
	err := s.h2.Shutdown(ctx)
	<-s.h2done
	return err
}

// Close closes the listeners and every connection at once, tunnels
// included.
func (s *Server) Close() error {
	if s.net != nil {
		return s.net.close()
	}
	s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.nc.Close() // cutting it is the point
	}
	s.mu.Unlock()
	s.h2run.Do(func() { close(s.h2done) })
	s.h2ln.Close()
	return s.h2.Close()
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing.Store(true)
	for ln := range s.listeners {
		_ = ln.Close() // Serve sees the error and returns ErrServerClosed
	}
}

// closeIdle closes connections waiting for a request and reports whether
// none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for c := range s.conns {
		if c.closeIfIdle(now) {
			delete(s.conns, c)
		}
	}
	return len(s.conns) == 0
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, accepted: time.Now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	s.conns[c] = struct{}{}
	return c
}

// ServeConn serves nc, a connection a handler of s took over (the inside
// of a CONNECT tunnel), with h in place of the server's handler, on the
// caller's goroutine, until it closes. It is one of the server's
// connections: Shutdown closes it once idle and waits for it, Close cuts
// it.
//
// A drain that began after the tunnel opened still gets the client's
// first request served: the connection is then not tracked (the caller's
// hijacked connection is, until this returns), and closes after that
// request.
func (s *Server) ServeConn(nc net.Conn, h http.Handler) {
	if s.net != nil {
		s.net.serveConn(nc, h)
		return
	}
	c := s.newConn(nc)
	if c == nil {
		c = &conn{srv: s, nc: nc, accepted: time.Now()}
	}
	c.handler = h
	c.serve()
}

// handlerConn carries a connection's own handler to the HTTP/2 server.
type handlerConn struct {
	net.Conn
	h http.Handler
}

type connHandlerKey struct{}

// withConnHandler is the HTTP/2 server's ConnContext: it records a
// connection's own handler for serveHTTP2.
func withConnHandler(ctx context.Context, nc net.Conn) context.Context {
	if hc, ok := nc.(*handlerConn); ok {
		return context.WithValue(ctx, connHandlerKey{}, hc.h)
	}
	return ctx
}

// maxConcurrentStreams bounds the requests in flight on one HTTP/2 connection.
const maxConcurrentStreams = 250

// serveHTTP2 runs a request net/http's server read (HTTP/2, or any with
// ServerOptions.NetHTTP) through its connection's handler, or the
// server's. A body of declared length gets ReadBodyTimeout to arrive.
func (s *Server) serveHTTP2(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		// net/http ends the body's reads at the deadline; the error they
		// return marks the body as timed out (timedBody), which lifts the
		// deadline once the body is read. The handler gets a copy of r:
		// net/http's HTTP/1.1 server looks at its own request's body to
		// tell whether the connection can carry another request (not
		// when the body was closed before its end).
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(s.opts.ReadBodyTimeout)); err == nil {
			timed := *r
			timed.Body = &timedBody{ReadCloser: r.Body, rc: rc}
			r = &timed
		}
	}
	if h, ok := r.Context().Value(connHandlerKey{}).(http.Handler); ok {
		h.ServeHTTP(w, r)
		return
	}
	s.handler.ServeHTTP(w, r)
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Serve runs srv on ln until ctx ends, then drains: it stops accepting,
// lets requests in flight finish for up to drain, and closes the rest.
func Serve(ctx context.Context, srv *Server, ln net.Listener, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close() // drain time is up: cut what is left
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
