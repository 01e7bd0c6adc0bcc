package outlier

import (
	"cmp"
	"log/slog"
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "outlier"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config), deps.Metrics, deps.Logger), nil
		},
	})
}

// Handler ejects failing endpoints.
type Handler struct {
	def     table.Outlier
	maxTime time.Duration
	metrics *metrics.Set
	logger  *slog.Logger
	now     func() time.Time
}

// New builds an outlier handler.
func New(cfg *Config, m *metrics.Set, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{
		def: table.Outlier{Consecutive5xx: cfg.Consecutive5xx, Interval: cfg.Interval,
			BaseEjectionTime: cfg.BaseEjectionTime, MaxEjectionPercent: cfg.MaxEjectionPercent},
		maxTime: cfg.MaxEjectionTime,
		metrics: m,
		logger:  logger.With("component", "sidecar.outlier"),
		now:     time.Now,
	}
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

func (h *Handler) policy(s *table.Service) table.Outlier {
	p := h.def
	if s != nil && s.Policy != nil && s.Policy.Outlier != nil {
		o := s.Policy.Outlier
		p.Consecutive5xx = o.Consecutive5xx
		p.Interval = cmp.Or(o.Interval, p.Interval)
		p.BaseEjectionTime = cmp.Or(o.BaseEjectionTime, p.BaseEjectionTime)
		p.MaxEjectionPercent = cmp.Or(o.MaxEjectionPercent, p.MaxEjectionPercent)
	}
	return p
}

// Active implements chain.Selective: services with detection turned on.
func (h *Handler) Active(s *table.Service) bool { return h.policy(s).Consecutive5xx > 0 }

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	p := h.policy(ex.Service)
	if p.Consecutive5xx == 0 {
		return next(ex)
	}
	now := h.now()
	ex.Candidates = h.filter(ex, now)
	resp, err := next(ex)
	if ep := ex.Endpoint; ep != nil {
		h.record(ex, ep, &p, failed(resp, err))
	}
	return resp, err
}

func failed(resp *http.Response, err error) bool {
	if err != nil {
		r := chain.AsError(err).Reason
		return r == chain.ReasonConnect || r == chain.ReasonReset || r == chain.ReasonTimeout
	}
	return resp.StatusCode >= 500
}

// filter removes ejected endpoints; if that would leave nothing, it keeps
// them all (better a struggling instance than none).
func (h *Handler) filter(ex *chain.Exchange, now time.Time) []*table.Endpoint {
	cands := ex.Candidates
	ejected := 0
	for _, e := range cands {
		if h.ejected(ex, e, now) {
			ejected++
		}
	}
	if ejected == 0 || ejected == len(cands) {
		return cands
	}
	out := make([]*table.Endpoint, 0, len(cands)-ejected)
	for _, e := range cands {
		if !e.Stats.Ejected(now) {
			out = append(out, e)
		}
	}
	return out
}

// ejected reports whether e is ejected, and ends an ejection that ran out.
func (h *Handler) ejected(ex *chain.Exchange, e *table.Endpoint, now time.Time) bool {
	until := e.Stats.EjectedUntil.Load()
	if until == 0 {
		return false
	}
	if now.UnixNano() < until {
		return true
	}
	if e.Stats.EjectedUntil.CompareAndSwap(until, 0) {
		e.Stats.Consecutive5xx.Store(0)
		h.metrics.EjectedInstances.WithLabelValues(ex.ServiceName()).Dec()
		h.logger.Info("instance returned from ejection", "service", ex.ServiceName(), "instance", e.ID)
	}
	return false
}

func (h *Handler) record(ex *chain.Exchange, e *table.Endpoint, p *table.Outlier, failure bool) {
	if !failure {
		e.Stats.Consecutive5xx.Store(0)
		return
	}
	if e.Stats.Consecutive5xx.Add(1) < int64(p.Consecutive5xx) {
		return
	}
	now := h.now()
	if e.Stats.Ejected(now) || ex.Service == nil || !h.mayEject(ex.Service, p, now) {
		return
	}
	n := decayed(e.Stats.Ejections.Load(), e.Stats.LastEjectionEnd.Load(), now, p.Interval) + 1
	d := min(time.Duration(n)*p.BaseEjectionTime, h.maxTime)
	until := now.Add(d).UnixNano()
	if !e.Stats.EjectedUntil.CompareAndSwap(0, until) {
		return // another request ejected it first
	}
	e.Stats.Ejections.Store(n)
	e.Stats.LastEjectionEnd.Store(until)
	e.Stats.Consecutive5xx.Store(0)
	h.metrics.Ejections.WithLabelValues(ex.ServiceName()).Inc()
	h.metrics.EjectedInstances.WithLabelValues(ex.ServiceName()).Inc()
	h.logger.Warn("instance ejected", "service", ex.ServiceName(), "instance", e.ID, "address", e.Address, "for", d)
}

// decayed is an ejection count after the time spent out of ejection since
// lastEnd: one less per full interval, as Envoy's ejection multiplier.
func decayed(count, lastEnd int64, now time.Time, interval time.Duration) int64 {
	if count == 0 || interval <= 0 {
		return count
	}
	out := now.UnixNano() - lastEnd
	if out <= 0 {
		return count
	}
	return max(0, count-out/int64(interval))
}

// mayEject reports whether one more instance of s may be ejected.
func (h *Handler) mayEject(s *table.Service, p *table.Outlier, now time.Time) bool {
	n, ejected := 0, 0
	for _, e := range s.Endpoints {
		if !e.Healthy {
			continue
		}
		n++
		if e.Stats.Ejected(now) {
			ejected++
		}
	}
	if n < 2 {
		return false
	}
	limit := max(1, int(float64(n)*p.MaxEjectionPercent/100))
	return ejected < limit
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
