package router

import (
	"errors"
	"math/rand/v2"
	"net/http"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "router"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, _ chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config)), nil
		},
	})
}

// Handler routes an exchange to a pool.
type Handler struct {
	failShadow bool
}

// New builds a router.
func New(cfg *Config) *Handler { return &Handler{failShadow: cfg.ShadowFallback == ShadowFallbackFail} }

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

var (
	errUnknown  = errors.New("no such service in the mesh")
	errNoShadow = errors.New("shadow request and no healthy shadow instance")
	errNoCanary = errors.New("canary has no healthy instance and its fallback is fail")
	errEmpty    = errors.New("no healthy instance in the routed subset")
)

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	pool, err := h.Route(ex.Service, ex.Request.Header, ex.Shadow)
	if pool != nil {
		ex.Pool = pool // named even when empty, for metrics
	}
	if err != nil {
		return nil, err
	}
	ex.Candidates = pool.Endpoints
	return next(ex)
}

// Route picks the pool for a request to s with headers hdr.
func (h *Handler) Route(s *table.Service, hdr http.Header, shadow bool) (*table.Pool, error) {
	if s == nil {
		return nil, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonUnknownService, Err: errUnknown}
	}
	if shadow {
		if len(s.Shadow.Endpoints) > 0 {
			return s.Shadow, nil
		}
		if h.failShadow {
			return s.Shadow, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonNoHealthy, Err: errNoShadow}
		}
	}
	var pool *table.Pool
	if c := s.MatchCanary(hdr); c != nil {
		switch {
		case len(c.Pool.Endpoints) > 0:
			pool = c.Pool
		case c.Fallback == control.FallbackFail:
			return c.Pool, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonNoHealthy, Err: errNoCanary}
		}
	}
	if pool == nil {
		pool = stable(s)
	}
	if len(pool.Endpoints) == 0 {
		return pool, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonNoHealthy, Err: errEmpty}
	}
	return pool, nil
}

// stable picks the stable pool, or one split subset by weight among the
// subsets that have healthy instances.
func stable(s *table.Service) *table.Pool {
	if s.Split == nil {
		return s.Stable
	}
	total := 0
	for _, sub := range s.Split.Subsets {
		if len(sub.Pool.Endpoints) > 0 {
			total += sub.Weight
		}
	}
	if total == 0 {
		return s.Stable
	}
	n := rand.IntN(total)
	for _, sub := range s.Split.Subsets {
		if len(sub.Pool.Endpoints) == 0 {
			continue
		}
		if n < sub.Weight {
			return sub.Pool
		}
		n -= sub.Weight
	}
	return s.Stable // unreachable: n < total
}

var _ chain.Handler = (*Handler)(nil)
