package httpx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/internal/quietconn"
)

// Liveness of h2c connections: a peer gone without a word (host down,
// network cut) is found by TCP within about 45 seconds, whether the
// connection is idle (keep-alive probes after 30 s, three 5 s apart) or
// has requests in flight (TCP_USER_TIMEOUT, on Linux: data unacknowledged
// for 45 s). gRPC streams have no deadline, so without this a dead peer
// would hold them until TCP's retransmissions give up (about 15 minutes).
const (
	h2cKeepAliveIdle     = 30 * time.Second
	h2cKeepAliveInterval = 5 * time.Second
	h2cKeepAliveCount    = 3
	h2cUserTimeout       = 45 * time.Second
)

// h2cClient sends requests in HTTP/2 with prior knowledge (h2c) over
// net/http's Transport, set up so that a connection that fails lets go of
// its memory at once, at any rate of failures:
//
//   - No HTTP/2 pings (HTTP2Config.SendPingTimeout): net/http's client
//     arms the ping timer in the connection's read loop and never stops
//     it when the loop ends, so every closed connection stays in memory
//     until the timer fires (golang/go#80920, open in Go 1.26). TCP
//     keep-alive and TCP_USER_TIMEOUT find dead peers instead (above).
//   - No IdleConnTimeout on the Transport: a new connection that fails
//     under its first request is kept in net/http's HTTP/2 pool for the
//     idle timeout (the timer meant to drop it after 5 s is re-armed with
//     the idle timeout when the request ends). Idle connections are
//     closed by sweep instead, every idleTimeout.
//
// It also learns which endpoints do not speak h2c (refusals).
type h2cClient struct {
	tr          *http.Transport
	idleTimeout time.Duration
	lastSweep   atomic.Int64 // unix nanoseconds
	refusals    *refusals
}

func newH2CClient(o ClientOptions, refused *refusals) *h2cClient {
	c := &h2cClient{idleTimeout: o.IdleConnTimeout, refusals: refused}
	c.lastSweep.Store(time.Now().UnixNano())
	dialer := &net.Dialer{
		Timeout: o.DialTimeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: h2cKeepAliveIdle,
			Interval: h2cKeepAliveInterval, Count: h2cKeepAliveCount},
		Control: setUserTimeout(h2cUserTimeout),
	}
	c.tr = &http.Transport{
		Proxy: nil, // never follow HTTP_PROXY: we are the proxy
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &prefaceConn{Conn: quietconn.Wrap(nc), addr: addr, refusals: refused}, nil
		},
		MaxIdleConnsPerHost: o.MaxIdleConnsPerHost,
		MaxConnsPerHost:     o.MaxConnsPerHost,
		DisableCompression:  true, // pass bodies through as they are
		WriteBufferSize:     o.BufferSize,
		ReadBufferSize:      o.BufferSize,
		Protocols:           new(http.Protocols),
	}
	c.tr.Protocols.SetUnencryptedHTTP2(true)
	return c
}

// NoH2CError is an HTTP/2 request to an endpoint that does not speak
// HTTP/2 with prior knowledge.
type NoH2CError struct {
	Addr string
	// Why is how the endpoint refused ("answered in HTTP/1").
	Why string
	// Tried is true when the request went out on a connection the
	// endpoint refused (its body may be partly read); false when the
	// endpoint was already known to refuse and nothing was sent.
	Tried bool
	// Err is the round trip's failure, when Tried.
	Err error
}

func (e *NoH2CError) Error() string {
	msg := "upstream " + e.Addr + " does not speak HTTP/2 with prior knowledge (h2c): to the HTTP/2 preface it " + e.Why
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *NoH2CError) Unwrap() error { return e.Err }

// roundTrip sends req in h2c, the whole exchange bounded by deadline when
// it is not zero. A request whose connection the endpoint refused gets a
// *NoH2CError: the upstream cannot have served it (an HTTP/2 server
// speaks first, with its SETTINGS, before it answers anything).
func (c *h2cClient) roundTrip(req *http.Request, deadline time.Time) (*http.Response, error) {
	c.sweepIdle()
	addr := req.URL.Host
	// The connection the request goes out on, to tell its refusal from
	// another request's.
	var used atomic.Pointer[prefaceConn]
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if pc, ok := info.Conn.(*prefaceConn); ok {
			used.Store(pc)
		}
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := roundTripWithDeadline(c.tr, req, deadline)
	if err != nil {
		if pc := used.Load(); pc != nil && pc.refused() {
			return nil, &NoH2CError{Addr: addr, Why: pc.why, Tried: true, Err: err}
		}
		return nil, err
	}
	return resp, nil
}

// sweepIdle closes the connections that have no request in flight, once
// every idleTimeout; requests call it, so a sidecar without h2c traffic
// keeps its few connections until their peers close them.
func (c *h2cClient) sweepIdle() {
	now := time.Now().UnixNano()
	last := c.lastSweep.Load()
	if now-last >= int64(c.idleTimeout) && c.lastSweep.CompareAndSwap(last, now) {
		c.tr.CloseIdleConnections()
	}
}

func (c *h2cClient) closeIdle() { c.tr.CloseIdleConnections() }

// Verdicts of a prefaceConn on its endpoint.
const (
	verdictUnknown int32 = iota
	verdictH2C
	verdictRefused
)

// frameTypeSettings is the type of the frame an HTTP/2 server sends first.
const frameTypeSettings = 0x4

// prefaceConn is an upstream connection the sidecar speaks h2c on. It
// looks at what the upstream sends first: an HTTP/2 server starts with a
// SETTINGS frame; an HTTP/1 answer to the preface ("HTTP/1.1 400 ..."),
// anything else, or a close before the first byte (seen by a read, or by
// a write that fails first) means the endpoint does not speak h2c, which
// it tells refusals. Only the HTTP/2 client's read loop reads from it.
type prefaceConn struct {
	net.Conn
	addr     string
	refusals *refusals

	head    [4]byte // the first bytes, up to the frame type
	n       int
	mu      sync.Mutex // orders the first verdict
	verdict atomic.Int32
	why     string // how it refused; written before verdict
}

func (c *prefaceConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.verdict.Load() == verdictUnknown {
		c.judge(p[:n], err)
	}
	return n, err
}

func (c *prefaceConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && c.verdict.Load() == verdictUnknown && !errors.Is(err, net.ErrClosed) {
		// The peer closed the connection (a reset, a broken pipe) before
		// its first frame; the write may fail before the read sees it,
		// or sees an HTTP/1 answer the reset threw away.
		c.refuse("closed the connection before any HTTP/2 frame")
	}
	return n, err
}

func (c *prefaceConn) judge(b []byte, err error) {
	c.n += copy(c.head[c.n:], b)
	switch {
	case c.n == len(c.head) && c.head[3] == frameTypeSettings:
		c.decide(verdictH2C, "")
	case c.n == len(c.head):
		why := "answered something other than HTTP/2"
		if string(c.head[:]) == "HTTP" {
			why = "answered in HTTP/1"
		}
		c.refuse(why)
	case err != nil && !errors.Is(err, net.ErrClosed):
		// Closed by the peer (EOF, reset) before a whole frame header; our
		// own close (net.ErrClosed) says nothing about the endpoint.
		if c.n == 0 {
			c.refuse("closed the connection before any HTTP/2 frame")
		} else {
			c.refuse(fmt.Sprintf("closed the connection after %d bytes", c.n))
		}
	}
}

func (c *prefaceConn) refuse(why string) {
	c.decide(verdictRefused, why)
}

// decide records the first verdict only: the reading goroutine and a
// writing one may both reach one. A refusal goes to refusals.
func (c *prefaceConn) decide(v int32, why string) {
	c.mu.Lock()
	first := c.verdict.Load() == verdictUnknown
	if first {
		c.why = why
		c.verdict.Store(v)
	}
	c.mu.Unlock()
	if first && v == verdictRefused {
		c.refusals.add(c.addr, why)
	}
}

// refused reports whether the endpoint refused h2c on this connection.
func (c *prefaceConn) refused() bool { return c.verdict.Load() == verdictRefused }
