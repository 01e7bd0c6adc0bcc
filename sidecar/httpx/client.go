package httpx

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/internal/quietconn"
)

// ClientOptions configure a Client. Zero values take the defaults.
type ClientOptions struct {
	// DialTimeout bounds connecting to an address (default 2s).
	DialTimeout time.Duration
	// MaxIdleConnsPerHost is the keep-alive pool size per address
	// (default 256).
	MaxIdleConnsPerHost int
	// MaxConnsPerHost caps the connections to one address, idle, in use
	// and being dialled (HTTP/1.1 ones, and HTTP/2 ones apart); a request
	// that finds the cap reached waits for a connection to come free, up
	// to its deadline (default 0: no cap).
	MaxConnsPerHost int
	// IdleConnTimeout closes pooled connections idle this long
	// (default 90s).
	IdleConnTimeout time.Duration
	// BufferSize is the read and write buffer per connection, in bytes
	// (default 16384).
	BufferSize int
	// H2CRetryAfter is how long an address found not to speak h2c is
	// remembered (default 1m).
	H2CRetryAfter time.Duration
	// H2CRefused, when set, is told of an address found not to speak
	// h2c: once per address and H2CRetryAfter, not per request.
	H2CRefused func(addr, why string)
	// NetHTTP sends HTTP/1.1 through net/http's Transport instead of the
	// client's own pool: the reference the own pool is checked against
	// (sidecar config runtime.http: nethttp). h2c goes through net/http
	// either way.
	NetHTTP bool
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 256
	}
	if o.IdleConnTimeout <= 0 {
		o.IdleConnTimeout = 90 * time.Second
	}
	if o.BufferSize <= 0 {
		o.BufferSize = 16 << 10
	}
	if o.H2CRetryAfter <= 0 {
		o.H2CRetryAfter = time.Minute
	}
	return o
}

// Client is the sidecar's upstream side, an http.RoundTripper: a request
// whose ProtoMajor is 2 goes out in HTTP/2 with prior knowledge (h2c),
// any other in HTTP/1.1, to req.URL.Host, never through a proxy (the
// sidecar is the proxy), bodies passed through as they are (no
// compression). HTTP/1.1 goes over the client's own keep-alive pool,
// which writes a request and reads its answer on the caller's goroutine
// (see h1pool); h2c over net/http's Transport, set up so that failed
// connections leave memory at once (see h2cClient).
//
// An h2c request to an address known not to speak h2c goes over
// HTTP/1.1 instead, as Envoy speaks to upstreams by default, unless it is
// gRPC, which needs HTTP/2: that one fails with a *NoH2CError, as does a
// request on a connection the address refused (whoever sent it may send
// it again, over HTTP/1.1, when its body allows).
//
// A 101 Switching Protocols answer carries the upgraded connection as its
// Body, an io.ReadWriteCloser no longer bound by the request's deadline
// or context.
type Client struct {
	h1  h1RoundTripper
	h2c *h2cClient
}

// h1RoundTripper is the HTTP/1.1 side: the own pool, or net/http's
// Transport (ClientOptions.NetHTTP).
type h1RoundTripper interface {
	roundTrip(req *http.Request, deadline time.Time) (*http.Response, error)
	closeIdle()
}

// NewClient returns a client; it dials nothing until asked.
func NewClient(o ClientOptions) *Client {
	o = o.withDefaults()
	c := &Client{h2c: newH2CClient(o, newRefusals(o.H2CRetryAfter, o.H2CRefused))}
	dialer := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	if o.NetHTTP {
		c.h1 = newNetH1(dialer, o)
	} else {
		c.h1 = newH1Pool(dialer, o.MaxIdleConnsPerHost, o.MaxConnsPerHost, o.IdleConnTimeout, o.BufferSize)
	}
	return c
}

// RoundTrip implements http.RoundTripper.
func (c *Client) RoundTrip(req *http.Request) (*http.Response, error) {
	return c.RoundTripDeadline(req, time.Time{})
}

// RoundTripDeadline is RoundTrip with the whole exchange, response body
// included, bounded by deadline (zero: no bound): a deadline as a value
// needs no context and no timer of its own (the HTTP/1.1 pool puts it on
// the connection).
func (c *Client) RoundTripDeadline(req *http.Request, deadline time.Time) (*http.Response, error) {
	if req.ProtoMajor == 2 {
		why, refused := c.h2c.refusals.get(req.URL.Host)
		switch {
		case !refused:
			return c.h2c.roundTrip(req, deadline)
		case IsGRPC(req.Header):
			return nil, &NoH2CError{Addr: req.URL.Host, Why: why}
		}
		// A known refusal: plain HTTP goes on in HTTP/1.1.
	}
	return c.h1.roundTrip(req, deadline)
}

// CloseIdleConnections closes the connections no request uses.
func (c *Client) CloseIdleConnections() {
	c.h1.closeIdle()
	c.h2c.closeIdle()
}

// quietDial dials through d and wraps the connection as the pool's are
// (see internal/quietconn: fewer thread wake-ups per request).
func quietDial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return quietconn.Wrap(c), nil
	}
}

// netH1 is HTTP/1.1 over net/http's Transport (ClientOptions.NetHTTP).
type netH1 struct{ tr *http.Transport }

func newNetH1(d *net.Dialer, o ClientOptions) *netH1 {
	tr := &http.Transport{
		Proxy:                 nil, // never follow HTTP_PROXY: we are the proxy
		DialContext:           quietDial(d),
		MaxIdleConns:          0, // no global cap; per host below
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		MaxConnsPerHost:       o.MaxConnsPerHost,
		IdleConnTimeout:       o.IdleConnTimeout,
		DisableCompression:    true, // pass bodies through as they are
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       o.BufferSize,
		ReadBufferSize:        o.BufferSize,
		Protocols:             new(http.Protocols),
	}
	tr.Protocols.SetHTTP1(true)
	return &netH1{tr: tr}
}

func (n *netH1) roundTrip(req *http.Request, deadline time.Time) (*http.Response, error) {
	return roundTripWithDeadline(n.tr, req, deadline)
}

func (n *netH1) closeIdle() { n.tr.CloseIdleConnections() }

// roundTripWithDeadline bounds a net/http round trip by deadline through
// the request's context, released when the response body is closed. An
// upgraded connection (101) is not bound: the deadline covers the
// handshake only.
func roundTripWithDeadline(rt http.RoundTripper, req *http.Request, deadline time.Time) (*http.Response, error) {
	if deadline.IsZero() {
		return rt.RoundTrip(req)
	}
	ctx, cancel := context.WithDeadline(req.Context(), deadline)
	resp, err := rt.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// net/http hands the connection over and stops watching the
		// context once it returns a 101.
		cancel()
		return resp, nil
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

var _ http.RoundTripper = (*Client)(nil)
