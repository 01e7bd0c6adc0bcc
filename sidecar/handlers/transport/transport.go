package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
)

// Name is the handler's registered name.
const Name = "transport"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config), deps)
		},
	})
}

// Handler sends exchanges upstream. It is always the last handler.
type Handler struct {
	up Upstream
}

// New builds a transport handler; deps give it a logger and metrics
// (both may be nil).
func New(cfg *Config, deps chain.Deps) (*Handler, error) {
	fn, ok := lookupUpstream(cfg.Kind)
	if !ok {
		return nil, errUnknownKind(cfg.Kind)
	}
	up, err := fn(cfg, deps)
	if err != nil {
		return nil, err
	}
	return &Handler{up: up}, nil
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

// Serve implements chain.Handler; it never calls next.
func (h *Handler) Serve(ex *chain.Exchange, _ chain.Next) (*http.Response, error) {
	ep := ex.Endpoint
	if ep == nil {
		return nil, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonNoHealthy}
	}
	if err := ex.Err(); err != nil {
		return nil, h.classify(ex, err)
	}
	ep.Stats.Active.Add(1)
	resp, err := h.send(ex, ex.HTTP2)
	var nh *httpx.NoH2CError
	if err != nil && errors.As(err, &nh) && nh.Tried && !httpx.IsGRPC(ex.Request.Header) && ex.Replayable() {
		// The endpoint refused this request's h2c connection, so it
		// served nothing: the request goes again, over HTTP/1.1 (the
		// endpoint is now known not to speak h2c).
		resp, err = h.send(ex, false)
	}
	if err != nil {
		ep.Stats.Active.Add(-1)
		return nil, h.classify(ex, err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return h.switched(ex, resp)
	}
	ep.Stats.Active.Add(-1)
	return resp, nil
}

// send makes one attempt at ex's endpoint, in h2c when http2 is true.
func (h *Handler) send(ex *chain.Exchange, http2 bool) (*http.Response, error) {
	addr := ex.Endpoint.Address
	var req *http.Request
	du, withDeadline := h.up.(DeadlineUpstream)
	if withDeadline {
		req = ex.OutboundRequest(ex.Request.Context(), addr)
	} else {
		req = ex.OutboundRequest(ex.Context(), addr)
	}
	// The request is the attempt's own copy: its protocol fields say which
	// one to speak upstream, whatever the caller spoke.
	if http2 {
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
	} else {
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	}
	if withDeadline {
		deadline, _ := ex.Deadline()
		return du.RoundTripDeadline(req, deadline)
	}
	return h.up.RoundTrip(req)
}

// switched checks a 101 answer: it must carry the upgraded connection,
// which then counts as in flight on its endpoint until it closes.
func (h *Handler) switched(ex *chain.Exchange, resp *http.Response) (*http.Response, error) {
	ep := ex.Endpoint
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	var err error
	switch {
	case ex.Upgrade == "":
		err = errUnasked
	case !ok:
		err = errNoConn
	}
	if err != nil {
		_ = resp.Body.Close() // nothing can use it
		ep.Stats.Active.Add(-1)
		return nil, &chain.Error{Status: http.StatusBadGateway, Reason: chain.ReasonBadUpgrade, Err: err}
	}
	resp.Body = hold(rwc, ep.Stats)
	return resp, nil
}

// classify is Classify with the exchange's deadline: a failure once it
// passed is a timeout, unless the caller left first.
func (h *Handler) classify(ex *chain.Exchange, err error) *chain.Error {
	if ex.Request.Context().Err() == nil && errors.Is(ex.Err(), context.DeadlineExceeded) {
		return &chain.Error{Status: http.StatusGatewayTimeout, Reason: chain.ReasonTimeout, Err: err}
	}
	return Classify(ex.Request.Context(), err)
}

// Send is the transport as a chain.Next, for handlers that send side requests.
func (h *Handler) Send(ex *chain.Exchange) (*http.Response, error) { return h.Serve(ex, nil) }

// CloseIdleConnections drops pooled connections.
func (h *Handler) CloseIdleConnections() { h.up.CloseIdleConnections() }

// Classify turns a round-trip error into a chain error: connect failures
// (nothing was sent, always safe to retry), timeouts, cancellations by the
// caller, h2c refused by the upstream, and resets (the request may have
// reached the upstream).
func Classify(ctx context.Context, err error) *chain.Error {
	var nh *httpx.NoH2CError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return &chain.Error{Status: http.StatusGatewayTimeout, Reason: chain.ReasonTimeout, Err: err}
	case ctx.Err() != nil:
		return &chain.Error{Status: 499, Reason: chain.ReasonCanceled, Err: err}
	case errors.As(err, &nh):
		return &chain.Error{Status: http.StatusBadGateway, Reason: chain.ReasonH2CRefused, Err: err}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonConnect, Err: err}
	}
	return &chain.Error{Status: http.StatusBadGateway, Reason: chain.ReasonReset, Err: err}
}

var _ chain.Handler = (*Handler)(nil)
