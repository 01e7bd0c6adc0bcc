package transport

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/quietconn"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/wire"
)

// Upstream sends requests to the next hop: another sidecar's ingress, an
// app, or a plain server.
type Upstream interface {
	// RoundTrip sends req (URL host already set to the endpoint address),
	// in HTTP/2 (h2c) when http2 is true and HTTP/1.1 otherwise; a
	// *NoH2CError says the endpoint does not speak h2c. When the
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

// NewUpstreamFunc builds an Upstream from the transport config; deps
// carry the logger and metrics.
type NewUpstreamFunc func(cfg *Config, deps chain.Deps) (Upstream, error)

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
	h2c    *h2cClient
}

func newPlain(cfg *Config, deps chain.Deps) (Upstream, error) {
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return quietconn.Wrap(c), nil // as the pool's connections (h1.go)
	}
	h1 := &http.Transport{
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
		Protocols:             new(http.Protocols),
	}
	h1.Protocols.SetHTTP1(true)
	// Upgrades always take the pool: an upgraded connection leaves it, so
	// the cap would not hold them anyway, and the pool ends the
	// handshake's deadline where net/http would keep watching a context.
	pl := &plain{http1: h1, capped: cfg.MaxConnsPerHost > 0,
		h1:  newH1Pool(dialer, cfg.MaxIdleConnsPerHost, cfg.IdleConnTimeout, cfg.BufferSize),
		h2c: newH2CClient(cfg, newRefusals(cfg.H2CRetryAfter, h2cLearned(cfg, deps)))}
	return pl, nil
}

// h2cLearned reports an endpoint found not to speak h2c: once per
// endpoint and h2cRetryAfter, not per request.
func h2cLearned(cfg *Config, deps chain.Deps) func(addr, why string) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "sidecar.transport")
	return func(addr, why string) {
		if deps.Metrics != nil {
			deps.Metrics.H2CRefusals.Inc()
		}
		logger.Warn("upstream does not speak HTTP/2 with prior knowledge (h2c); HTTP/2 callers go to it over HTTP/1.1, gRPC calls fail with UNAVAILABLE, until h2c is tried again",
			"endpoint", addr, "answer", why, "retry_after", cfg.H2CRetryAfter)
	}
}

func (p *plain) RoundTrip(req *http.Request, http2 bool) (*http.Response, error) {
	return p.RoundTripDeadline(req, http2, time.Time{})
}

// RoundTripDeadline sends req. An h2c request to an endpoint known not to
// speak h2c goes over HTTP/1.1 instead, as Envoy speaks to upstreams by
// default, unless it is gRPC, which needs HTTP/2: that one fails with a
// *NoH2CError, as does a request on a connection the endpoint refused
// (the handler sends it again when its body allows).
func (p *plain) RoundTripDeadline(req *http.Request, http2 bool, deadline time.Time) (*http.Response, error) {
	if http2 {
		why, refused := p.h2c.refusals.get(req.URL.Host)
		switch {
		case !refused:
			return p.h2c.roundTrip(req, deadline)
		case chain.IsGRPC(req.Header):
			return nil, &NoH2CError{Addr: req.URL.Host, Why: why}
		}
		// A known refusal: plain HTTP goes on in HTTP/1.1.
	}
	if !p.capped || wire.Upgrade(req.Header) != "" {
		return p.h1.RoundTrip(req, deadline)
	}
	return roundTripWithDeadline(p.http1, req, deadline)
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
	p.h2c.closeIdle()
}

var _ DeadlineUpstream = (*plain)(nil)

func errUnknownKind(kind string) error {
	return fmt.Errorf("kind: unknown upstream %q (known: %v)", kind, upstreamNames())
}
