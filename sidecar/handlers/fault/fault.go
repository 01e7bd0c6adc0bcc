package fault

import (
	"errors"
	"math/rand/v2"
	"net/http"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "fault"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config), deps.Direction, deps.Metrics), nil
		},
	})
}

// Handler injects faults.
type Handler struct {
	def     table.Fault
	dir     chain.Direction
	metrics *metrics.Set
}

// New builds a fault handler.
func New(cfg *Config, dir chain.Direction, m *metrics.Set) *Handler {
	return &Handler{
		def: table.Fault{DelayPercent: cfg.DelayPercent, Delay: cfg.Delay, AbortPercent: cfg.AbortPercent, AbortStatus: cfg.AbortStatus},
		dir: dir, metrics: m,
	}
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

var errInjected = errors.New("fault injected")

// Active implements chain.Selective: outbound calls to a service with a
// fault policy, and every request when a default fault is configured.
func (h *Handler) Active(s *table.Service) bool {
	if h.dir == chain.Outbound && s != nil && s.Policy != nil && s.Policy.Fault != nil {
		return true
	}
	return h.def.DelayPercent > 0 || h.def.AbortPercent > 0
}

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	f := &h.def
	if h.dir == chain.Outbound && ex.Service != nil && ex.Service.Policy != nil && ex.Service.Policy.Fault != nil {
		f = ex.Service.Policy.Fault
		if !f.Applies(ex.Request.Header) {
			return next(ex)
		}
	}
	if f.DelayPercent > 0 && rand.Float64()*100 < f.DelayPercent {
		h.metrics.Faults.WithLabelValues(h.dir.String(), ex.ServiceName(), "delay").Inc()
		if !wait.Sleep(ex.Context(), f.Delay) {
			return nil, &chain.Error{Status: 499, Reason: chain.ReasonCanceled, Err: ex.Context().Err()}
		}
	}
	if f.AbortPercent > 0 && rand.Float64()*100 < f.AbortPercent {
		h.metrics.Faults.WithLabelValues(h.dir.String(), ex.ServiceName(), "abort").Inc()
		return nil, &chain.Error{Status: f.AbortStatus, Reason: chain.ReasonFaultAbort, Err: errInjected}
	}
	return next(ex)
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
