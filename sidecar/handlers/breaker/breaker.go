package breaker

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "breaker"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config), deps.Metrics, deps.Logger), nil
		},
	})
}

// Handler keeps one circuit per target service.
type Handler struct {
	def      table.Breaker
	metrics  *metrics.Set
	logger   *slog.Logger
	now      func() time.Time
	circuits sync.Map // service key -> *circuit
}

// New builds a breaker handler.
func New(cfg *Config, m *metrics.Set, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{
		def: table.Breaker{
			ConsecutiveFailures: cfg.ConsecutiveFailures, ErrorRatePercent: cfg.ErrorRatePercent,
			MinRequests: cfg.MinRequests, Window: cfg.Window, OpenDuration: cfg.OpenDuration,
			HalfOpenRequests: cfg.HalfOpenRequests,
		},
		metrics: m,
		logger:  logger.With("component", "sidecar.breaker"),
		now:     time.Now,
	}
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

func (h *Handler) policy(s *table.Service) (table.Breaker, bool) {
	p := h.def
	if s != nil && s.Policy != nil && s.Policy.Breaker != nil {
		o := s.Policy.Breaker
		p.ConsecutiveFailures, p.ErrorRatePercent = o.ConsecutiveFailures, o.ErrorRatePercent
		p.MinRequests = cmp.Or(o.MinRequests, p.MinRequests)
		p.Window = cmp.Or(o.Window, p.Window)
		p.OpenDuration = cmp.Or(o.OpenDuration, p.OpenDuration)
		p.HalfOpenRequests = cmp.Or(o.HalfOpenRequests, p.HalfOpenRequests)
	}
	return p, p.ConsecutiveFailures > 0 || p.ErrorRatePercent > 0
}

func (h *Handler) circuit(service string) *circuit {
	if c, ok := h.circuits.Load(service); ok {
		return c.(*circuit)
	}
	c, _ := h.circuits.LoadOrStore(service, &circuit{})
	return c.(*circuit)
}

var errOpen = errors.New("circuit breaker is open")

// Active implements chain.Selective: services with a breaker turned on.
func (h *Handler) Active(s *table.Service) bool {
	_, on := h.policy(s)
	return on
}

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	p, on := h.policy(ex.Service)
	if !on {
		return next(ex)
	}
	service := ex.ServiceName()
	c := h.circuit(service)
	ok, probe, st, changed := c.allow(h.now(), &p)
	if changed {
		h.changed(service, st)
	}
	if !ok {
		return nil, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonCircuitOpen, Err: errOpen}
	}
	resp, err := next(ex)
	if err != nil && chain.IsReason(err, chain.ReasonCanceled) {
		return resp, err // the caller left; says nothing about the upstream
	}
	failure := err != nil || resp.StatusCode >= 500
	if st, changed := c.record(h.now(), &p, failure, probe); changed {
		h.changed(service, st)
	}
	return resp, err
}

// State returns the breaker state of a service.
func (h *Handler) State(service string) State { return h.circuit(service).current() }

func (h *Handler) changed(service string, st State) {
	h.metrics.BreakerState.WithLabelValues(service).Set(float64(st))
	h.metrics.BreakerChanges.WithLabelValues(service, st.String()).Inc()
	h.logger.Info("circuit breaker changed state", "service", service, "state", st.String())
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
