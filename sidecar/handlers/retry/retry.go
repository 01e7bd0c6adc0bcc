package retry

import (
	"cmp"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Name is the handler's registered name.
const Name = "retry"

func init() {
	chain.Register(chain.Kind{
		Name:      Name,
		NewConfig: func() chain.Config { return DefaultConfig() },
		New: func(cfg chain.Config, deps chain.Deps) (chain.Handler, error) {
			return New(cfg.(*Config), deps.Metrics)
		},
	})
}

// Handler retries failed attempts within a budget.
type Handler struct {
	def     table.Retry
	maxBody int64
	metrics *metrics.Set
	now     func() time.Time

	budgets sync.Map // service key -> *budget
}

// New builds a retry handler.
func New(cfg *Config, m *metrics.Set) (*Handler, error) {
	on, err := table.ParseRetryOn(cfg.RetryOn)
	if err != nil {
		return nil, err
	}
	methods := map[string]bool{}
	for _, mth := range cfg.Methods {
		methods[mth] = true
	}
	if len(methods) == 0 {
		for _, mth := range control.IdempotentMethods {
			methods[mth] = true
		}
	}
	return &Handler{
		def: table.Retry{
			Attempts: cfg.Attempts, PerTryTimeout: cfg.PerTryTimeout, On: on, Methods: methods,
			BudgetPercent: cfg.BudgetPercent, MinRetriesPerSecond: cfg.MinRetriesPerSecond, Backoff: cfg.Backoff,
		},
		maxBody: cfg.MaxReplayBody,
		metrics: m,
		now:     time.Now,
	}, nil
}

// Name implements chain.Handler.
func (h *Handler) Name() string { return Name }

// policy merges the route's or service's retry settings over the defaults.
func (h *Handler) policy(ex *chain.Exchange) table.Retry {
	p := h.def
	var over *table.Retry
	if ex.Service != nil && ex.Service.Policy != nil {
		over = ex.Service.Policy.Retry
		if rt := ex.Service.Policy.RouteFor(ex.Request.URL.Path); rt != nil && rt.Retry != nil {
			over = rt.Retry
		}
	}
	if over != nil {
		p.Attempts = over.Attempts
		p.PerTryTimeout = cmp.Or(over.PerTryTimeout, p.PerTryTimeout)
		p.BudgetPercent = cmp.Or(over.BudgetPercent, p.BudgetPercent)
		p.MinRetriesPerSecond = cmp.Or(over.MinRetriesPerSecond, p.MinRetriesPerSecond)
		p.Backoff = cmp.Or(over.Backoff, p.Backoff)
		if over.On != nil {
			p.On = over.On
		}
		if over.Methods != nil {
			p.Methods = over.Methods
		}
	}
	return p
}

func (h *Handler) budget(service string) *budget {
	if b, ok := h.budgets.Load(service); ok {
		return b.(*budget)
	}
	b, _ := h.budgets.LoadOrStore(service, &budget{})
	return b.(*budget)
}

// Active implements chain.Selective: services where some route retries or
// bounds its attempts.
func (h *Handler) Active(s *table.Service) bool {
	if s == nil || s.Policy == nil {
		return h.acts(nil)
	}
	if h.acts(s.Policy.Retry) {
		return true
	}
	for _, r := range s.Policy.Routes {
		if r.Retry != nil && h.acts(r.Retry) {
			return true
		}
	}
	return false
}

// acts reports whether a retry policy (nil: the defaults) does anything.
func (h *Handler) acts(over *table.Retry) bool {
	if over == nil {
		return h.def.Attempts > 0 || h.def.PerTryTimeout > 0
	}
	return over.Attempts > 0 || cmp.Or(over.PerTryTimeout, h.def.PerTryTimeout) > 0
}

// Serve implements chain.Handler.
func (h *Handler) Serve(ex *chain.Exchange, next chain.Next) (*http.Response, error) {
	p := h.policy(ex)
	service := ex.ServiceName()
	b := h.budget(service)
	b.request(h.now())
	if p.Attempts == 0 {
		return h.try(ex, p, next)
	}
	// An upgrade is retried only when it could not connect: once its
	// head went out, the upstream may have switched protocols.
	methodOK := p.Methods[ex.Request.Method] && ex.Upgrade == ""
	// A request that may be retried after the upstream saw it (a reset or
	// a retried status) needs its body kept; otherwise only connect
	// failures are retried, and for those a body nobody read yet can
	// simply be sent again.
	if methodOK && (p.On.Reset || p.On.AnyStatus()) {
		ex.BufferBody(h.maxBody)
	} else {
		ex.GuardBody()
	}
	for attempt := 0; ; attempt++ {
		ex.Attempt = attempt
		resp, err := h.try(ex, p, next)
		if !h.retriable(&p, methodOK, resp, err) || attempt >= p.Attempts || ex.Err() != nil {
			return resp, err
		}
		if !ex.Replayable() {
			h.metrics.RetriesDenied.WithLabelValues(service, "not_replayable").Inc()
			return resp, err
		}
		if !b.withdraw(h.now(), p.BudgetPercent, p.MinRetriesPerSecond) {
			h.metrics.RetriesDenied.WithLabelValues(service, "budget").Inc()
			return resp, err
		}
		chain.Discard(resp)
		if ex.Endpoint != nil {
			ex.Tried = append(ex.Tried, ex.Endpoint)
		}
		ex.Endpoint = nil
		h.metrics.Retries.WithLabelValues(service).Inc()
		// Jitter spreads the retries of many callers that failed together.
		pause := p.Backoff + time.Duration(rand.Int64N(int64(p.Backoff)+1))
		if !wait.Sleep(ex.Context(), pause) {
			return nil, &chain.Error{Status: 499, Reason: chain.ReasonCanceled, Err: ex.Context().Err()}
		}
	}
}

func (h *Handler) try(ex *chain.Exchange, p table.Retry, next chain.Next) (*http.Response, error) {
	if p.PerTryTimeout > 0 {
		return chain.WithTimeout(ex, p.PerTryTimeout, next)
	}
	return next(ex)
}

// retriable reports whether this outcome may be retried under p.
func (h *Handler) retriable(p *table.Retry, methodOK bool, resp *http.Response, err error) bool {
	if err != nil {
		ce := chain.AsError(err)
		switch ce.Reason {
		case chain.ReasonConnect:
			return p.On.ConnectFailure
		case chain.ReasonReset:
			return methodOK && p.On.Reset
		case chain.ReasonTimeout:
			return methodOK && p.On.Status(http.StatusGatewayTimeout)
		}
		return false
	}
	return methodOK && p.On.Status(resp.StatusCode)
}

var (
	_ chain.Handler   = (*Handler)(nil)
	_ chain.Selective = (*Handler)(nil)
)
