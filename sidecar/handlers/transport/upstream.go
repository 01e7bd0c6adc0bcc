package transport

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/internal/kinds"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
)

// Upstream sends requests to the next hop: another sidecar's ingress, an
// app, or a plain server. It is an http.RoundTripper: req's URL host is
// the endpoint address, and req.ProtoMajor 2 asks for HTTP/2 with prior
// knowledge (h2c), anything else for HTTP/1.1; an *httpx.NoH2CError says
// the endpoint does not speak h2c. When the answer is 101 Switching
// Protocols, the response's Body is the upgraded connection, an
// io.ReadWriteCloser no longer bound by any deadline; the handler refuses
// it when req asked for no upgrade.
type Upstream interface {
	http.RoundTripper
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
	RoundTripDeadline(req *http.Request, deadline time.Time) (*http.Response, error)
}

// NewUpstreamFunc builds an Upstream from the transport config; deps
// carry the logger and metrics.
type NewUpstreamFunc func(cfg *Config, deps chain.Deps) (Upstream, error)

var upstreams = kinds.New[NewUpstreamFunc]("transport: upstream kind")

// RegisterUpstream adds an upstream kind ("plain", later "mtls"). An empty
// or duplicate name panics.
func RegisterUpstream(name string, fn NewUpstreamFunc) {
	if fn == nil {
		panic("transport: upstream kind " + name + " needs a constructor")
	}
	upstreams.Register(name, fn)
}

func lookupUpstream(name string) (NewUpstreamFunc, bool) { return upstreams.Lookup(name) }

func upstreamNames() []string { return upstreams.Names() }

func init() { RegisterUpstream("plain", newPlain) }

// newPlain is the "plain" kind: cleartext HTTP/1.1 (keep-alive pools, an
// optional cap on connections per endpoint) and h2c, httpx's client.
func newPlain(cfg *Config, deps chain.Deps) (Upstream, error) {
	return httpx.NewClient(httpx.ClientOptions{
		DialTimeout: cfg.DialTimeout, MaxIdleConnsPerHost: cfg.MaxIdleConnsPerHost, MaxConnsPerHost: cfg.MaxConnsPerHost,
		IdleConnTimeout: cfg.IdleConnTimeout, BufferSize: cfg.BufferSize, H2CRetryAfter: cfg.H2CRetryAfter,
		H2CRefused: h2cLearned(cfg, deps), NetHTTP: cfg.NetHTTP,
	}), nil
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

func errUnknownKind(kind string) error {
	return fmt.Errorf("kind: unknown upstream %q (known: %v)", kind, upstreamNames())
}

var _ DeadlineUpstream = (*httpx.Client)(nil)
