package chain

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Direction is the way traffic flows through the sidecar.
type Direction uint8

// Directions.
const (
	Outbound Direction = iota // app → mesh (egress)
	Inbound                   // mesh → app (ingress)
)

func (d Direction) String() string {
	if d == Inbound {
		return "inbound"
	}
	return "outbound"
}

// Exchange is one request on its way through a chain. Handlers fill in the
// routing decisions as it goes: the router sets Pool and Candidates, the
// load balancer sets Endpoint, the transport sends.
type Exchange struct {
	// Request is the request to send upstream: already stripped of
	// hop-by-hop headers, Host kept as the caller sent it.
	Request   *http.Request
	Direction Direction
	Start     time.Time
	// Table is the routing table read once when the request arrived.
	Table *table.Table
	// Service is the target service (outbound) or the local one (inbound);
	// nil when the table does not know it.
	Service *table.Service
	// Pool is the set of endpoints the router chose; Candidates is the part
	// of it still eligible (outlier detection removes ejected endpoints).
	Pool       *table.Pool
	Candidates []*table.Endpoint
	// Endpoint is the endpoint the next attempt goes to.
	Endpoint *table.Endpoint
	// Tried lists endpoints earlier attempts went to, so retries go elsewhere.
	Tried []*table.Endpoint
	// Attempt counts attempts from 0.
	Attempt int
	// HTTP2 says the next hop is spoken to in HTTP/2 (h2c), as the caller did.
	HTTP2 bool
	// Shadow is true for requests that carry X-Mesh-Shadow: true.
	Shadow bool
	// Upgrade is the protocol an HTTP/1.1 upgrade request asks for
	// ("websocket"), "" for every other request. Such a request is sent
	// once (retried only when it could not connect), never mirrored, and
	// a 101 answer's Body is the upgraded connection (io.ReadWriteCloser).
	Upgrade string

	body         []byte
	bodyBuffered bool
	guard        *guardedBody
	guardStore   guardedBody // what guard points to: no allocation of its own

	// deadline bounds the exchange (zero: none). It is a plain value so
	// that a timeout costs no context and no timer unless a handler asks
	// for Context; the transport turns it into a connection deadline.
	deadline time.Time
	// ctx is the request's context bounded by ctxDeadline, built by
	// Context on demand; cancels are released by Release.
	ctx         context.Context
	ctxDeadline time.Time
	cancels     []context.CancelFunc

	// own holds the request when the exchange owns a copy of it
	// (NewExchangeCopy); first and firstURL hold the first attempt's
	// request. Living in the exchange, they cost no allocation of their
	// own. Later attempts get fresh copies: an HTTP/2 round trip may still
	// read the previous one.
	own http.Request
	// headerOwned: Request.Header is a copy made by EditHeader.
	headerOwned bool
	first       http.Request
	firstURL    url.URL
	attempts    int
}

// NewExchange starts an exchange for req.
func NewExchange(req *http.Request, dir Direction, t *table.Table) *Exchange {
	return &Exchange{
		Request:   req,
		Direction: dir,
		Start:     time.Now(),
		Table:     t,
		HTTP2:     req.ProtoMajor == 2,
		Shadow:    IsShadow(req.Header),
	}
}

// NewExchangeCopy starts an exchange for a shallow copy of r that the
// exchange owns and may change (the listeners pass the server's request,
// which handlers must leave alone). The copy lives in the exchange.
func NewExchangeCopy(r *http.Request, dir Direction, t *table.Table) *Exchange {
	ex := &Exchange{Direction: dir, Start: time.Now(), Table: t, HTTP2: r.ProtoMajor == 2, Shadow: IsShadow(r.Header)}
	ex.own = *r
	ex.Request = &ex.own
	return ex
}

// EditHeader returns the request's header map for a handler to change. The
// first call gives the request its own copy: a shallow request copy still
// shares the listener's map, which belongs to the server.
func (ex *Exchange) EditHeader() http.Header {
	if !ex.headerOwned {
		h := ex.Request.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		ex.Request.Header, ex.headerOwned = h, true
	}
	return ex.Request.Header
}

var shadowKey = http.CanonicalHeaderKey(control.HeaderShadow)

// IsShadow reports whether h carries the shadow header with value true.
func IsShadow(h http.Header) bool {
	v := h[shadowKey]
	return len(v) > 0 && strings.EqualFold(v[0], "true")
}

// Context is the request's context, ending at the exchange's deadline when
// one is set. The bounded context is built on first use, so handlers that
// never ask for it (the common path) cost no context or timer; what it
// holds is freed by Release.
func (ex *Exchange) Context() context.Context {
	parent := ex.Request.Context()
	if ex.deadline.IsZero() {
		return parent
	}
	if ex.ctx == nil || !ex.ctxDeadline.Equal(ex.deadline) {
		ctx, cancel := context.WithDeadline(parent, ex.deadline)
		ex.ctx, ex.ctxDeadline = ctx, ex.deadline
		ex.cancels = append(ex.cancels, cancel)
	}
	return ex.ctx
}

// Deadline returns the time the exchange must be over by, if any.
func (ex *Exchange) Deadline() (time.Time, bool) { return ex.deadline, !ex.deadline.IsZero() }

// Err reports why the exchange should stop: the caller's context error,
// or context.DeadlineExceeded once the deadline passed; nil otherwise.
func (ex *Exchange) Err() error {
	if err := ex.Request.Context().Err(); err != nil {
		return err
	}
	if !ex.deadline.IsZero() && !time.Now().Before(ex.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Release frees the contexts Context built. The listener calls it once the
// response is written; it is safe to call more than once.
func (ex *Exchange) Release() {
	for _, c := range ex.cancels {
		c()
	}
	ex.cancels, ex.ctx = nil, nil
}

// Subset is the name of the chosen pool, for metrics ("" before routing).
func (ex *Exchange) Subset() string {
	if ex.Pool == nil {
		return ""
	}
	return ex.Pool.Name
}

// ServiceName is the target service's key, or "" when unknown.
func (ex *Exchange) ServiceName() string {
	if ex.Service == nil {
		return ""
	}
	return ex.Service.Key
}

// BufferBody reads the request body into memory when it is at most max
// bytes, so the request can be sent more than once (retry, mirror). It
// reports whether the body can be replayed. A body of unknown length
// (streams, gRPC) is never buffered.
func (ex *Exchange) BufferBody(max int64) bool {
	if ex.bodyBuffered {
		return true
	}
	r := ex.Request
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		ex.bodyBuffered = true
		return true
	}
	if r.ContentLength < 0 || r.ContentLength > max {
		return false
	}
	buf := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, buf); err != nil {
		// Leave the exchange unreplayable; the transport will send what is
		// left and the upstream will see the short body, as without us.
		return false
	}
	ex.body, ex.bodyBuffered = buf, true
	return true
}

// Replayable reports whether the request may be sent again: its body is
// buffered, empty, or guarded and not yet read from.
func (ex *Exchange) Replayable() bool {
	r := ex.Request
	return ex.bodyBuffered || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 ||
		ex.guard != nil && !ex.guard.touched.Load()
}

// GuardBody keeps the body from being closed by a failed attempt and notes
// whether any of it was read, so a request that failed before sending a
// byte (a connect failure) can go again without buffering its body.
func (ex *Exchange) GuardBody() {
	r := ex.Request
	if ex.bodyBuffered || ex.guard != nil || r.Body == nil || r.Body == http.NoBody {
		return
	}
	ex.guardStore.r = r.Body
	ex.guard = &ex.guardStore
	r.Body = ex.guard
}

// guardedBody passes reads through, records that one happened, and leaves
// closing to the server that owns the body.
type guardedBody struct {
	r       io.ReadCloser
	touched atomic.Bool
}

func (g *guardedBody) Read(p []byte) (int, error) {
	g.touched.Store(true)
	return g.r.Read(p)
}

func (g *guardedBody) Close() error { return nil }

// Body returns the buffered body (nil if none was buffered or it is empty).
func (ex *Exchange) Body() []byte { return ex.body }

// OutboundRequest returns the request for one attempt at addr: a shallow
// copy with its own URL and, when buffered, a fresh body reader.
func (ex *Exchange) OutboundRequest(ctx context.Context, addr string) *http.Request {
	var out *http.Request
	if ex.attempts == 0 && ctx == ex.Request.Context() {
		ex.first, ex.firstURL = *ex.Request, *ex.Request.URL
		out = &ex.first
		out.URL = &ex.firstURL
	} else {
		out = ex.Request.WithContext(ctx)
		u := *out.URL
		out.URL = &u
	}
	ex.attempts++
	out.URL.Scheme, out.URL.Host = "http", addr
	if ex.bodyBuffered {
		if len(ex.body) == 0 {
			out.Body = http.NoBody
		} else {
			out.Body = io.NopCloser(bytes.NewReader(ex.body))
		}
		out.GetBody = nil
	}
	return out
}

// SetBody makes b the exchange's (replayable) body.
func (ex *Exchange) SetBody(b []byte) {
	ex.body, ex.bodyBuffered = b, true
	ex.Request.ContentLength = int64(len(b))
}
