package timeout

import (
	"net/http"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "timeout"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, _ chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config)), nil
		},
	})
}

// Handler bounds calls in time.
type Handler struct{ def time.Duration }

// New builds a timeout handler.
func New(cfg *Config) *Handler { return &Handler{def: cfg.Default} }

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

// For returns the timeout that applies to ex (0: none).
func (h *Handler) For(ex *chain.Exchange) time.Duration {
	if ex.Service != nil && ex.Service.Policy != nil {
		p := ex.Service.Policy
		if rt := p.RouteFor(ex.Request.URL.Path); rt != nil && rt.Timeout > 0 {
			return rt.Timeout
		}
		if p.Timeout > 0 {
			return p.Timeout
		}
	}
	if strings.HasPrefix(ex.Request.Header.Get("Content-Type"), "application/grpc") {
		return 0
	}
	return h.def
}

// Active implements chain.Selective: every service when a default is set,
// else those whose policy sets a timeout.
func (h *Handler) Active(s *table.Service) bool {
	if h.def > 0 {
		return true
	}
	if s == nil || s.Policy == nil {
		return false
	}
	if s.Policy.Timeout > 0 {
		return true
	}
	for _, r := range s.Policy.Routes {
		if r.Timeout > 0 {
			return true
		}
	}
	return false
}

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	d := h.For(ex)
	if d <= 0 {
		return next(ex)
	}
	return chain.WithTimeout(ex, d, next)
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
