package mirror

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "mirror"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			if deps.Send == nil {
				return nil, errors.New("mirror: needs the transport to send copies")
			}
			return New(cfg.(*Config), deps.Send, deps.Metrics, deps.Logger), nil
		},
	})
}

// Handler copies requests to a mirror pool.
type Handler struct {
	cfg     Config
	send    chain.Next
	metrics *metrics.Set
	logger  *slog.Logger
	queue   chan *job
	stop    context.CancelFunc
	ctx     context.Context
	wg      sync.WaitGroup
	once    sync.Once
}

type job struct {
	service string
	pool    *table.Pool
	req     *http.Request
	body    []byte
	http2   bool
}

// New builds a mirror handler and starts its workers; Cleanup stops them.
func New(cfg *Config, send chain.Next, m *metrics.Set, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	h := &Handler{cfg: *cfg, send: send, metrics: m, logger: logger.With("component", "sidecar.mirror"),
		queue: make(chan *job, cfg.QueueSize), ctx: ctx, stop: stop}
	for range cfg.Workers {
		h.wg.Add(1)
		go h.work()
	}
	return h
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

// Active implements chain.Selective: services with a mirror rule.
func (h *Handler) Active(s *table.Service) bool { return s != nil && s.Mirror != nil }

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	// An upgrade is not copied: a mirror would hold a tunnel nobody speaks on.
	if s := ex.Service; s != nil && s.Mirror != nil && !ex.Shadow && ex.Upgrade == "" && rand.Float64()*100 < s.Mirror.Percent {
		h.enqueue(ex, s.Mirror)
	}
	return next(ex)
}

func (h *Handler) enqueue(ex *chain.Exchange, m *table.Mirror) {
	service := ex.ServiceName()
	if !ex.BufferBody(h.cfg.MaxBody) {
		h.metrics.MirrorDropped.WithLabelValues(service, "body_too_large").Inc()
		return
	}
	if len(m.Pool.Endpoints) == 0 {
		h.metrics.MirrorDropped.WithLabelValues(service, "no_endpoint").Inc()
		return
	}
	// The copy shares nothing mutable with the primary: its own header map
	// and URL, and the body bytes, which nobody writes to.
	r := ex.Request
	cp := &http.Request{
		Method: r.Method, URL: cloneURL(r), Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header: r.Header.Clone(), Host: r.Host, ContentLength: r.ContentLength,
	}
	cp.Header.Set(control.HeaderShadow, "true")
	j := &job{service: service, pool: m.Pool, req: cp, body: ex.Body(), http2: ex.HTTP2}
	select {
	case h.queue <- j:
	default:
		h.metrics.MirrorDropped.WithLabelValues(service, "queue_full").Inc()
	}
}

func cloneURL(r *http.Request) *url.URL { u := *r.URL; return &u }

func (h *Handler) work() {
	defer h.wg.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case j := <-h.queue:
			h.sendCopy(j)
		}
	}
}

func (h *Handler) sendCopy(j *job) {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.Timeout)
	defer cancel()
	eps := j.pool.Endpoints
	ep := eps[j.pool.Next()%uint64(len(eps))]
	req := j.req.WithContext(ctx)
	req.Body = http.NoBody
	ex := chain.NewExchange(req, chain.Outbound, nil)
	defer ex.Release()
	ex.HTTP2 = j.http2
	ex.Endpoint = ep
	ex.Pool = j.pool
	if len(j.body) > 0 {
		ex.SetBody(j.body)
	}
	start := time.Now()
	resp, err := h.send(ex)
	if err != nil {
		h.metrics.MirrorDropped.WithLabelValues(j.service, "error").Inc()
		h.logger.Debug("mirror copy failed", "service", j.service, "endpoint", ep.Address, "error", err)
		return
	}
	chain.Discard(resp)
	h.metrics.MirrorSent.WithLabelValues(j.service).Inc()
	h.logger.Debug("mirror copy sent", "service", j.service, "endpoint", ep.Address, "status", resp.StatusCode, "took", time.Since(start))
}

// Cleanup stops the workers; queued copies are dropped.
func (h *Handler) Cleanup() error {
	h.once.Do(func() {
		h.stop()
		h.wg.Wait()
	})
	return nil
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Cleaner   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
