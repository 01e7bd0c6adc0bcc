package ratelimit

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "ratelimit"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config), deps.Direction, deps.Metrics), nil
		},
	})
}

// Handler refuses requests beyond a rate.
type Handler struct {
	def     control.TokenBucket
	dir     chain.Direction
	metrics *metrics.Set
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*keyed
}

type keyed struct {
	spec control.TokenBucket
	b    *bucket
}

// New builds a rate limiter for one direction.
func New(cfg *Config, dir chain.Direction, m *metrics.Set) *Handler {
	return &Handler{def: control.TokenBucket{RPS: cfg.RPS, Burst: cfg.Burst}, dir: dir, metrics: m, now: time.Now, buckets: map[string]*keyed{}}
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

var errLimited = errors.New("rate limit exceeded")

// spec returns the bucket that applies to s: its policy's, else the default.
func (h *Handler) spec(s *table.Service) control.TokenBucket {
	if s != nil && s.Policy != nil {
		tb := s.Policy.RateOutbound
		if h.dir == chain.Inbound {
			tb = s.Policy.RateInbound
		}
		if tb != nil {
			return *tb
		}
	}
	return h.def
}

// Active implements chain.Selective: only services with a rate.
func (h *Handler) Active(s *table.Service) bool { return h.spec(s).RPS > 0 }

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	spec := h.spec(ex.Service)
	if spec.RPS <= 0 {
		return next(ex)
	}
	service := ex.ServiceName()
	now := h.now()
	h.mu.Lock()
	k := h.buckets[service]
	if k == nil || k.spec != spec {
		k = &keyed{spec: spec, b: newBucket(spec.RPS, spec.Burst, now)}
		h.buckets[service] = k
	}
	h.mu.Unlock()
	if !k.b.take(now) {
		h.metrics.RateLimited.WithLabelValues(h.dir.String(), service).Inc()
		return nil, &chain.Error{Status: http.StatusTooManyRequests, Reason: chain.ReasonRateLimited, Err: errLimited}
	}
	return next(ex)
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
