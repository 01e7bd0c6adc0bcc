package table

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/control"
)

// Policy is a compiled control.ServicePolicy. Zero values mean "not set":
// the handler that reads a field falls back to its own configured default.
type Policy struct {
	Name         string
	LoadBalancer *control.LoadBalancerPolicy
	Timeout      time.Duration
	Retry        *Retry
	Breaker      *Breaker
	Outlier      *Outlier
	RateInbound  *control.TokenBucket
	RateOutbound *control.TokenBucket
	Fault        *Fault
	Routes       []Route
	Headers      map[string]string
}

// Route overrides the timeout and retries under a path prefix.
type Route struct {
	PathPrefix string
	Timeout    time.Duration
	Retry      *Retry
}

// RouteFor returns the longest route whose prefix matches path, or nil.
func (p *Policy) RouteFor(path string) *Route {
	if p == nil {
		return nil
	}
	var best *Route
	for i := range p.Routes {
		r := &p.Routes[i]
		if strings.HasPrefix(path, r.PathPrefix) && (best == nil || len(r.PathPrefix) > len(best.PathPrefix)) {
			best = r
		}
	}
	return best
}

// Retry is a compiled control.RetryPolicy.
type Retry struct {
	Attempts      int
	PerTryTimeout time.Duration
	On            *RetryOn // nil: handler default
	// Methods that may be retried; nil: the idempotent ones.
	Methods             map[string]bool
	BudgetPercent       float64
	MinRetriesPerSecond float64
	Backoff             time.Duration
}

// RetryOn says which failures are retried.
type RetryOn struct {
	ConnectFailure bool
	Reset          bool
	codes          [10]uint64 // bit per status code 0-639
}

// Status reports whether a response with this code is retried.
func (r *RetryOn) Status(code int) bool {
	if code < 0 || code >= 640 {
		return false
	}
	return r.codes[code/64]&(1<<(code%64)) != 0
}

// AnyStatus reports whether some response status is retried.
func (r *RetryOn) AnyStatus() bool { return r.codes != [10]uint64{} }

func (r *RetryOn) addCode(code int) {
	if code >= 0 && code < 640 {
		r.codes[code/64] |= 1 << (code % 64)
	}
}

// ParseRetryOn compiles a retryOn list ("connect-failure", "reset", "5xx",
// "gateway-error", "503").
func ParseRetryOn(list []string) (*RetryOn, error) {
	r := &RetryOn{}
	for _, on := range list {
		switch on {
		case "connect-failure":
			r.ConnectFailure = true
		case "reset":
			r.Reset = true
		case "5xx":
			for c := 500; c < 600; c++ {
				r.addCode(c)
			}
		case "gateway-error":
			r.addCode(http.StatusBadGateway)
			r.addCode(http.StatusServiceUnavailable)
			r.addCode(http.StatusGatewayTimeout)
		default:
			c, err := strconv.Atoi(on)
			if err != nil || c < 100 || c > 599 {
				return nil, &ParseError{Value: on}
			}
			r.addCode(c)
		}
	}
	return r, nil
}

// ParseError names a retryOn entry that is not understood.
type ParseError struct{ Value string }

func (e *ParseError) Error() string {
	return "retryOn " + strconv.Quote(e.Value) + ": must be connect-failure, reset, 5xx, gateway-error or a status code"
}

// Breaker is a compiled control.BreakerPolicy; zero fields take defaults.
type Breaker struct {
	ConsecutiveFailures int
	ErrorRatePercent    float64
	MinRequests         int
	Window              time.Duration
	OpenDuration        time.Duration
	HalfOpenRequests    int
}

// Outlier is a compiled control.OutlierPolicy; zero fields take defaults.
type Outlier struct {
	Consecutive5xx     int
	Interval           time.Duration
	BaseEjectionTime   time.Duration
	MaxEjectionPercent float64
}

// Fault is a compiled control.FaultPolicy.
type Fault struct {
	DelayPercent float64
	Delay        time.Duration
	AbortPercent float64
	AbortStatus  int
	only         []headerMatcher
}

// Applies reports whether the fault's header condition matches h.
func (f *Fault) Applies(h http.Header) bool { return matchAll(f.only, h) }

func dur(d *control.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.D()
}

func compileRetry(r *control.RetryPolicy) (*Retry, error) {
	if r == nil {
		return nil, nil
	}
	out := &Retry{
		Attempts:            r.Attempts,
		PerTryTimeout:       dur(r.PerTryTimeout),
		BudgetPercent:       r.BudgetPercent,
		MinRetriesPerSecond: r.MinRetriesPerSecond,
		Backoff:             dur(r.Backoff),
	}
	if len(r.RetryOn) > 0 {
		on, err := ParseRetryOn(r.RetryOn)
		if err != nil {
			return nil, err
		}
		out.On = on
	}
	if len(r.Methods) > 0 {
		out.Methods = map[string]bool{}
		for _, m := range r.Methods {
			out.Methods[m] = true
		}
	}
	return out, nil
}

func compilePolicy(name string, sp *control.ServicePolicy) (*Policy, error) {
	p := &Policy{Name: name, LoadBalancer: sp.LoadBalancer, Timeout: dur(sp.Timeout), Headers: sp.Headers}
	var err error
	if p.Retry, err = compileRetry(sp.Retry); err != nil {
		return nil, err
	}
	if b := sp.CircuitBreaker; b != nil {
		p.Breaker = &Breaker{
			ConsecutiveFailures: b.ConsecutiveFailures, ErrorRatePercent: b.ErrorRatePercent,
			MinRequests: b.MinRequests, Window: dur(b.Window), OpenDuration: dur(b.OpenDuration),
			HalfOpenRequests: b.HalfOpenRequests,
		}
	}
	if o := sp.OutlierDetection; o != nil {
		p.Outlier = &Outlier{
			Consecutive5xx: o.Consecutive5xx, Interval: dur(o.Interval),
			BaseEjectionTime: dur(o.BaseEjectionTime), MaxEjectionPercent: o.MaxEjectionPercent,
		}
	}
	if rl := sp.RateLimit; rl != nil {
		p.RateInbound, p.RateOutbound = rl.Inbound, rl.Outbound
	}
	if f := sp.Fault; f != nil {
		cf := &Fault{}
		if f.Delay != nil {
			cf.DelayPercent, cf.Delay = f.Delay.Percent, f.Delay.Duration.D()
		}
		if f.Abort != nil {
			cf.AbortPercent, cf.AbortStatus = f.Abort.Percent, f.Abort.Status
		}
		if cf.only, err = compileMatchers(f.OnlyHeaders); err != nil {
			return nil, err
		}
		p.Fault = cf
	}
	for _, r := range sp.Routes {
		rr, err := compileRetry(r.Retry)
		if err != nil {
			return nil, err
		}
		p.Routes = append(p.Routes, Route{PathPrefix: r.PathPrefix, Timeout: dur(r.Timeout), Retry: rr})
	}
	return p, nil
}
