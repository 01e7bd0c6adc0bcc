package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/quietconn"
	"github.com/meshbridge/meshbridge/sidecar/wire"
)

// Upstream sends requests to the next hop: another sidecar's ingress, an
// app, or a plain server.
type Upstream interface {
	// RoundTrip sends req (URL host already set to the endpoint address),
	// in HTTP/2 (h2c) when http2 is true and HTTP/1.1 otherwise. When the
	// answer is 101 Switching Protocols, the response's Body is the
	// upgraded connection, an io.ReadWriteCloser no longer bound by any
	// deadline; the handler refuses it when req asked for no upgrade.
	RoundTrip(req *http.Request, http2 bool) (*http.Response, error)
	// CloseIdleConnections drops pooled connections (on drain).
	CloseIdleConnections()
}

// DeadlineUpstream is an Upstream that takes the exchange's deadline as a
// value, so a bounded request needs no context and no timer of its own
// (the plain kind puts it on the connection). Upstreams without it get the
// deadline in the request's context.
type DeadlineUpstream interface {
	Upstream
	// RoundTripDeadline is RoundTrip with the whole exchange, response body
	// included, bounded by deadline (zero: no bound).
	RoundTripDeadline(req *http.Request, http2 bool, deadline time.Time) (*http.Response, error)
}

// NewUpstreamFunc builds an Upstream from the transport config.
type NewUpstreamFunc func(cfg *Config) (Upstream, error)

var (
	upstreamsMu sync.RWMutex
	upstreams   = map[string]NewUpstreamFunc{}
)

// RegisterUpstream adds an upstream kind ("plain", later "mtls"). An empty
// or duplicate name panics.
func RegisterUpstream(name string, fn NewUpstreamFunc) {
	upstreamsMu.Lock()
	defer upstreamsMu.Unlock()
	if name == "" || fn == nil {
		panic("transport: upstream kind needs a name and a constructor")
	}
	if _, dup := upstreams[name]; dup {
		panic("transport: upstream kind " + name + " registered twice")
	}
	upstreams[name] = fn
}

func lookupUpstream(name string) (NewUpstreamFunc, bool) {
	upstreamsMu.RLock()
	defer upstreamsMu.RUnlock()
	fn, ok := upstreams[name]
	return fn, ok
}

func upstreamNames() []string {
	upstreamsMu.RLock()
	defer upstreamsMu.RUnlock()
	out := make([]string, 0, len(upstreams))
	for n := range upstreams {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func init() { RegisterUpstream("plain", newPlain) }

// plain speaks cleartext HTTP/1.1 (keep-alive pool) and h2c.
type plain struct {
	h1     *h1pool         // HTTP/1.1 unless a connection cap is set, and upgrades always
	capped bool            // MaxConnsPerHost is set: other HTTP/1.1 requests use http1
	http1  *http.Transport // HTTP/1.1 with MaxConnsPerHost
	h2c    *http.Transport
}

func newPlain(cfg *Config) (Upstream, error) {
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return quietconn.Wrap(c), nil // as the pool's connections (h1.go)
	}
	base := func() *http.Transport {
		return &http.Transport{
			Proxy:                 nil, // never follow HTTP_PROXY: we are the proxy
			DialContext:           dial,
			MaxIdleConns:          0, // no global cap; per host below
			MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
			MaxConnsPerHost:       cfg.MaxConnsPerHost,
			IdleConnTimeout:       cfg.IdleConnTimeout,
			DisableCompression:    true, // pass bodies through as they are
			ExpectContinueTimeout: time.Second,
			WriteBufferSize:       cfg.BufferSize,
			ReadBufferSize:        cfg.BufferSize,
		}
	}
	h1 := base()
	h1.Protocols = new(http.Protocols)
	h1.Protocols.SetHTTP1(true)
	h2 := base()
	h2.Protocols = new(http.Protocols)
	h2.Protocols.SetUnencryptedHTTP2(true)
	if h2.HTTP2 == nil {
		h2.HTTP2 = &http.HTTP2Config{}
	}
	h2.HTTP2.PingTimeout = 15 * time.Second
	h2.HTTP2.SendPingTimeout = 30 * time.Second
	// Upgrades always take the pool: an upgraded connection leaves it, so
	// the cap would not hold them anyway, and the pool ends the
	// handshake's deadline where net/http would keep watching a context.
	pl := &plain{http1: h1, h2c: h2, capped: cfg.MaxConnsPerHost > 0,
		h1: newH1Pool(dialer, cfg.MaxIdleConnsPerHost, cfg.IdleConnTimeout, cfg.BufferSize)}
	return pl, nil
}

func (p *plain) RoundTrip(req *http.Request, http2 bool) (*http.Response, error) {
	return p.RoundTripDeadline(req, http2, time.Time{})
}

func (p *plain) RoundTripDeadline(req *http.Request, http2 bool, deadline time.Time) (*http.Response, error) {
	if !http2 && (!p.capped || wire.Upgrade(req.Header) != "") {
		return p.h1.RoundTrip(req, deadline)
	}
	rt := http.RoundTripper(p.http1)
	if http2 {
		rt = p.h2c
	}
	return roundTripWithDeadline(rt, req, deadline)
}

// roundTripWithDeadline bounds a net/http round trip by deadline through
// the request's context, released when the response body is closed.
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

func (p *plain) CloseIdleConnections() {
	p.h1.closeIdle()
	p.http1.CloseIdleConnections()
	p.h2c.CloseIdleConnections()
}

var _ DeadlineUpstream = (*plain)(nil)

func errUnknownKind(kind string) error {
	return fmt.Errorf("kind: unknown upstream %q (known: %v)", kind, upstreamNames())
}
