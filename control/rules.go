package control

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/meshbridge/meshbridge/registry"
)

// Resource kind names.
const (
	KindCanaryRule    = "CanaryRule"
	KindTrafficSplit  = "TrafficSplit"
	KindMirrorRule    = "MirrorRule"
	KindServicePolicy = "ServicePolicy"
	KindAccessRule    = "AccessRule"
)

// Headers the mesh propagates; apps copy them from inbound to outbound calls.
const (
	// HeaderShadow marks shadow (mirrored or shadow-routed) requests.
	HeaderShadow = "X-Mesh-Shadow"
)

func init() {
	RegisterKind(Kind{Name: KindCanaryRule, New: func() Spec { return &CanaryRule{} }})
	RegisterKind(Kind{Name: KindTrafficSplit, New: func() Spec { return &TrafficSplit{} }})
	RegisterKind(Kind{Name: KindMirrorRule, New: func() Spec { return &MirrorRule{} }})
	RegisterKind(Kind{Name: KindServicePolicy, New: func() Spec { return &ServicePolicy{} }})
	RegisterKind(Kind{Name: KindAccessRule, New: func() Spec { return &AccessRule{} }})
}

// HeaderMatch matches one request header. Exactly one of Exact, Prefix,
// Regex and Present is set.
type HeaderMatch struct {
	Name    string `json:"name"`
	Exact   string `json:"exact,omitempty"`
	Prefix  string `json:"prefix,omitempty"`
	Regex   string `json:"regex,omitempty"`
	Present bool   `json:"present,omitempty"`
	// Invert turns the match into "does not match".
	Invert bool `json:"invert,omitempty"`
}

func (m *HeaderMatch) validate(field string) error {
	if m.Name == "" || strings.ContainsAny(m.Name, " :\r\n") {
		return fieldErr(field+".name", "must be a header name")
	}
	set := 0
	for _, ok := range []bool{m.Exact != "", m.Prefix != "", m.Regex != "", m.Present} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return fieldErr(field, "set exactly one of exact, prefix, regex, present")
	}
	if m.Regex != "" {
		if _, err := regexp.Compile(m.Regex); err != nil {
			return fieldErr(field+".regex", "%v", err)
		}
	}
	return nil
}

// Fallback says what a canary does when none of its instances is healthy.
type Fallback string

// Fallbacks.
const (
	FallbackStable Fallback = "stable" // send to the stable instances (default)
	FallbackFail   Fallback = "fail"   // answer 503
)

// CanaryRule sends requests whose headers match to the instances selected by
// labels. Instances held by any canary of a service receive no other traffic.
type CanaryRule struct {
	Service string `json:"service"`
	// Namespace of the service (default "public").
	Namespace string `json:"namespace,omitempty"`
	// Priority decides between rules that match the same request: the
	// higher number wins (1-1000, default 1); ties go to the name that sorts first.
	Priority int `json:"priority,omitempty"`
	// Match: all header matchers must match.
	Match struct {
		Headers []HeaderMatch `json:"headers"`
	} `json:"match"`
	// Selector picks the canary instances by label.
	Selector map[string]string `json:"selector"`
	Fallback Fallback          `json:"fallback,omitempty"`
}

// TargetService implements Spec.
func (c *CanaryRule) TargetService() string { return c.Service }

// Validate implements Spec.
func (c *CanaryRule) Validate() error {
	if err := validService("service", c.Service); err != nil {
		return err
	}
	if c.Priority < 0 || c.Priority > 1000 {
		return fieldErr("priority", "must be 1-1000, got %d", c.Priority)
	}
	if len(c.Match.Headers) == 0 {
		return fieldErr("match.headers", "at least one header matcher is required")
	}
	for i := range c.Match.Headers {
		if err := c.Match.Headers[i].validate(fmt.Sprintf("match.headers[%d]", i)); err != nil {
			return err
		}
	}
	if err := validSelector("selector", c.Selector); err != nil {
		return err
	}
	switch c.Fallback {
	case "", FallbackStable, FallbackFail:
	default:
		return fieldErr("fallback", "must be %q or %q", FallbackStable, FallbackFail)
	}
	return nil
}

// EffectivePriority is the priority with its default applied.
func (c *CanaryRule) EffectivePriority() int { return max(c.Priority, 1) }

// Subset is a set of instances chosen by labels.
type Subset struct {
	Labels map[string]string `json:"labels"`
	Weight int               `json:"weight"`
}

// TrafficSplit spreads a service's traffic over label subsets by weight
// ("version: v1" 40, "version: v2" 60).
type TrafficSplit struct {
	Service   string   `json:"service"`
	Namespace string   `json:"namespace,omitempty"`
	Subsets   []Subset `json:"subsets"`
}

// TargetService implements Spec.
func (s *TrafficSplit) TargetService() string { return s.Service }

// Validate implements Spec.
func (s *TrafficSplit) Validate() error {
	if err := validService("service", s.Service); err != nil {
		return err
	}
	if len(s.Subsets) == 0 {
		return fieldErr("subsets", "at least one subset is required")
	}
	total := 0
	for i, sub := range s.Subsets {
		f := fmt.Sprintf("subsets[%d]", i)
		if err := validSelector(f+".labels", sub.Labels); err != nil {
			return err
		}
		if sub.Weight < 0 || sub.Weight > 10000 {
			return fieldErr(f+".weight", "must be 0-10000, got %d", sub.Weight)
		}
		total += sub.Weight
	}
	if total == 0 {
		return fieldErr("subsets", "weights must add up to more than 0")
	}
	return nil
}

// MirrorRule copies a share of a service's requests to a subset; mirrored
// requests carry X-Mesh-Shadow: true and their responses are dropped.
type MirrorRule struct {
	Service   string `json:"service"`
	Namespace string `json:"namespace,omitempty"`
	// Percent of requests mirrored, 0-100.
	Percent float64 `json:"percent"`
	// Subset selects the mirror target instances (of Service, or of TargetService).
	Subset map[string]string `json:"subset"`
	// TargetService mirrors to another service (default: Service itself).
	MirrorService string `json:"mirrorService,omitempty"`
}

// TargetService implements Spec.
func (m *MirrorRule) TargetService() string { return m.Service }

// Validate implements Spec.
func (m *MirrorRule) Validate() error {
	if err := validService("service", m.Service); err != nil {
		return err
	}
	if m.Percent <= 0 || m.Percent > 100 {
		return fieldErr("percent", "must be more than 0 and at most 100")
	}
	if m.MirrorService != "" {
		if err := validService("mirrorService", m.MirrorService); err != nil {
			return err
		}
	}
	if m.MirrorService == "" || len(m.Subset) > 0 {
		return validSelector("subset", m.Subset)
	}
	return nil
}

// Load-balancing policies.
const (
	LBRoundRobin     = "round_robin"
	LBWeightedRandom = "weighted_random"
	LBLeastRequest   = "least_request"
	LBConsistentHash = "consistent_hash"
)

// ServicePolicy holds the resilience settings for calls to a service. Every
// section is optional; absent sections take the sidecar's defaults.
type ServicePolicy struct {
	Service      string              `json:"service"`
	Namespace    string              `json:"namespace,omitempty"`
	LoadBalancer *LoadBalancerPolicy `json:"loadBalancer,omitempty"`
	// Timeout for the whole call, retries included.
	Timeout          *Duration         `json:"timeout,omitempty"`
	Retry            *RetryPolicy      `json:"retry,omitempty"`
	CircuitBreaker   *BreakerPolicy    `json:"circuitBreaker,omitempty"`
	OutlierDetection *OutlierPolicy    `json:"outlierDetection,omitempty"`
	RateLimit        *RateLimitPolicy  `json:"rateLimit,omitempty"`
	Fault            *FaultPolicy      `json:"fault,omitempty"`
	Routes           []RoutePolicy     `json:"routes,omitempty"`
	Headers          map[string]string `json:"headers,omitempty"`
}

// LoadBalancerPolicy picks an instance among the routed subset.
type LoadBalancerPolicy struct {
	Policy string `json:"policy"`
	// HashHeader or HashCookie is the key for consistent_hash.
	HashHeader string `json:"hashHeader,omitempty"`
	HashCookie string `json:"hashCookie,omitempty"`
}

// RetryPolicy retries failed calls within a budget.
type RetryPolicy struct {
	Attempts      int       `json:"attempts"`
	PerTryTimeout *Duration `json:"perTryTimeout,omitempty"`
	// RetryOn lists "connect-failure", "reset", or status codes as strings ("503").
	RetryOn []string `json:"retryOn,omitempty"`
	// Methods that may be retried (default the idempotent ones).
	Methods []string `json:"methods,omitempty"`
	// BudgetPercent caps retries at this share of requests (default 20).
	BudgetPercent float64 `json:"budgetPercent,omitempty"`
	// MinRetriesPerSecond are allowed whatever the budget (default 10).
	MinRetriesPerSecond float64   `json:"minRetriesPerSecond,omitempty"`
	Backoff             *Duration `json:"backoff,omitempty"`
}

// BreakerPolicy opens the circuit after consecutive failures or a high error rate.
type BreakerPolicy struct {
	ConsecutiveFailures int       `json:"consecutiveFailures,omitempty"`
	ErrorRatePercent    float64   `json:"errorRatePercent,omitempty"`
	MinRequests         int       `json:"minRequests,omitempty"`
	Window              *Duration `json:"window,omitempty"`
	OpenDuration        *Duration `json:"openDuration,omitempty"`
	HalfOpenRequests    int       `json:"halfOpenRequests,omitempty"`
}

// OutlierPolicy ejects misbehaving instances for a while.
type OutlierPolicy struct {
	Consecutive5xx     int       `json:"consecutive5xx,omitempty"`
	Interval           *Duration `json:"interval,omitempty"`
	BaseEjectionTime   *Duration `json:"baseEjectionTime,omitempty"`
	MaxEjectionPercent float64   `json:"maxEjectionPercent,omitempty"`
}

// RateLimitPolicy holds token buckets for calls into and out of the service.
type RateLimitPolicy struct {
	Inbound  *TokenBucket `json:"inbound,omitempty"`
	Outbound *TokenBucket `json:"outbound,omitempty"`
}

// TokenBucket allows RPS requests per second with bursts up to Burst.
type TokenBucket struct {
	RPS   float64 `json:"rps"`
	Burst int     `json:"burst,omitempty"`
}

// FaultPolicy injects delays and aborts.
type FaultPolicy struct {
	Delay *struct {
		Percent  float64  `json:"percent"`
		Duration Duration `json:"duration"`
	} `json:"delay,omitempty"`
	Abort *struct {
		Percent float64 `json:"percent"`
		Status  int     `json:"status"`
	} `json:"abort,omitempty"`
	// OnlyHeaders limits faults to requests matching all of these.
	OnlyHeaders []HeaderMatch `json:"onlyHeaders,omitempty"`
}

// RoutePolicy overrides the timeout and retries for a path prefix.
type RoutePolicy struct {
	PathPrefix string       `json:"pathPrefix"`
	Timeout    *Duration    `json:"timeout,omitempty"`
	Retry      *RetryPolicy `json:"retry,omitempty"`
}

// TargetService implements Spec.
func (p *ServicePolicy) TargetService() string { return p.Service }

// Validate implements Spec.
func (p *ServicePolicy) Validate() error {
	if err := validService("service", p.Service); err != nil {
		return err
	}
	if lb := p.LoadBalancer; lb != nil {
		switch lb.Policy {
		case LBRoundRobin, LBWeightedRandom, LBLeastRequest:
		case LBConsistentHash:
			if (lb.HashHeader == "") == (lb.HashCookie == "") {
				return fieldErr("loadBalancer", "consistent_hash needs exactly one of hashHeader, hashCookie")
			}
		default:
			return fieldErr("loadBalancer.policy", "must be one of %s, %s, %s, %s", LBRoundRobin, LBWeightedRandom, LBLeastRequest, LBConsistentHash)
		}
	}
	if err := positive("timeout", p.Timeout); err != nil {
		return err
	}
	if err := p.Retry.validate("retry"); err != nil {
		return err
	}
	if b := p.CircuitBreaker; b != nil {
		switch {
		case b.ConsecutiveFailures < 0:
			return fieldErr("circuitBreaker.consecutiveFailures", "must not be negative")
		case b.ErrorRatePercent < 0 || b.ErrorRatePercent > 100:
			return fieldErr("circuitBreaker.errorRatePercent", "must be 0-100")
		case b.ConsecutiveFailures == 0 && b.ErrorRatePercent == 0:
			return fieldErr("circuitBreaker", "set consecutiveFailures or errorRatePercent")
		case b.MinRequests < 0 || b.HalfOpenRequests < 0:
			return fieldErr("circuitBreaker", "counts must not be negative")
		}
		if err := positive("circuitBreaker.window", b.Window); err != nil {
			return err
		}
		if err := positive("circuitBreaker.openDuration", b.OpenDuration); err != nil {
			return err
		}
	}
	if o := p.OutlierDetection; o != nil {
		if o.Consecutive5xx < 0 || o.MaxEjectionPercent < 0 || o.MaxEjectionPercent > 100 {
			return fieldErr("outlierDetection", "consecutive5xx must be >= 0 and maxEjectionPercent 0-100")
		}
		if err := positive("outlierDetection.interval", o.Interval); err != nil {
			return err
		}
		if err := positive("outlierDetection.baseEjectionTime", o.BaseEjectionTime); err != nil {
			return err
		}
	}
	if r := p.RateLimit; r != nil {
		for name, b := range map[string]*TokenBucket{"inbound": r.Inbound, "outbound": r.Outbound} {
			if b != nil && (b.RPS <= 0 || b.Burst < 0) {
				return fieldErr("rateLimit."+name, "rps must be > 0 and burst >= 0")
			}
		}
	}
	if f := p.Fault; f != nil {
		if f.Delay != nil && (f.Delay.Percent < 0 || f.Delay.Percent > 100 || f.Delay.Duration <= 0) {
			return fieldErr("fault.delay", "percent must be 0-100 and duration > 0")
		}
		if f.Abort != nil && (f.Abort.Percent < 0 || f.Abort.Percent > 100 || f.Abort.Status < 200 || f.Abort.Status > 599) {
			return fieldErr("fault.abort", "percent must be 0-100 and status 200-599")
		}
		for i := range f.OnlyHeaders {
			if err := f.OnlyHeaders[i].validate(fmt.Sprintf("fault.onlyHeaders[%d]", i)); err != nil {
				return err
			}
		}
	}
	for i, r := range p.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		if !strings.HasPrefix(r.PathPrefix, "/") {
			return fieldErr(f+".pathPrefix", "must start with /")
		}
		if err := positive(f+".timeout", r.Timeout); err != nil {
			return err
		}
		if err := r.Retry.validate(f + ".retry"); err != nil {
			return err
		}
	}
	for k, v := range p.Headers {
		if !httpguts.ValidHeaderFieldName(k) {
			return fieldErr("headers", "bad header name %q", k)
		}
		if reservedPolicyHeader(k) {
			return fieldErr("headers", "%q is managed by the mesh or frames the message and cannot be set", k)
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return fieldErr("headers", "bad value for %q", k)
		}
	}
	return nil
}

func (r *RetryPolicy) validate(field string) error {
	if r == nil {
		return nil
	}
	if r.Attempts < 0 || r.Attempts > 10 {
		return fieldErr(field+".attempts", "must be 0-10, got %d", r.Attempts)
	}
	if r.BudgetPercent < 0 || r.BudgetPercent > 100 {
		return fieldErr(field+".budgetPercent", "must be 0-100")
	}
	if r.MinRetriesPerSecond < 0 {
		return fieldErr(field+".minRetriesPerSecond", "must not be negative")
	}
	for i, on := range r.RetryOn {
		switch on {
		case "connect-failure", "reset", "5xx", "gateway-error":
		default:
			var code int
			if _, err := fmt.Sscanf(on, "%d", &code); err != nil || code < 100 || code > 599 || fmt.Sprint(code) != on {
				return fieldErr(fmt.Sprintf("%s.retryOn[%d]", field, i), "must be connect-failure, reset, 5xx, gateway-error or a status code, got %q", on)
			}
		}
	}
	for i, m := range r.Methods {
		if m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t") {
			return fieldErr(fmt.Sprintf("%s.methods[%d]", field, i), "must be an upper-case HTTP method, got %q", m)
		}
	}
	if err := positive(field+".perTryTimeout", r.PerTryTimeout); err != nil {
		return err
	}
	return positive(field+".backoff", r.Backoff)
}

// Access actions.
const (
	AccessAllow = "allow"
	AccessDeny  = "deny"
)

// AccessRule allows or denies calls from source services to a service.
type AccessRule struct {
	Service   string   `json:"service"`
	Namespace string   `json:"namespace,omitempty"`
	Action    string   `json:"action"`
	Sources   []string `json:"sources"`
	// Paths limits the rule to path prefixes (default: all paths).
	Paths []string `json:"paths,omitempty"`
}

// TargetService implements Spec.
func (a *AccessRule) TargetService() string { return a.Service }

// ErrAccessNotEnforced refuses AccessRules: no sidecar enforces them yet.
// Sources would be named by the caller's own sidecar, with no identity to
// check them against until mTLS and service identities land; storing a
// deny rule that nothing enforces would only look like protection.
var ErrAccessNotEnforced = fieldErr("kind", "AccessRule is not enforced by any sidecar yet (it needs service identities, planned with mTLS); it is refused rather than stored unenforced")

// Validate implements Spec. Every AccessRule is refused for now
// (ErrAccessNotEnforced); the checks below are what it will take.
func (a *AccessRule) Validate() error {
	if err := a.validate(); err != nil {
		return err
	}
	return ErrAccessNotEnforced
}

func (a *AccessRule) validate() error {
	if err := validService("service", a.Service); err != nil {
		return err
	}
	if a.Action != AccessAllow && a.Action != AccessDeny {
		return fieldErr("action", "must be %q or %q", AccessAllow, AccessDeny)
	}
	if len(a.Sources) == 0 {
		return fieldErr("sources", "at least one source service (or \"*\") is required")
	}
	for i, s := range a.Sources {
		if s != "*" {
			if err := validService(fmt.Sprintf("sources[%d]", i), s); err != nil {
				return err
			}
		}
	}
	for i, p := range a.Paths {
		if !strings.HasPrefix(p, "/") {
			return fieldErr(fmt.Sprintf("paths[%d]", i), "must start with /")
		}
	}
	return nil
}

func validService(field, name string) error {
	if !registry.ValidName(name) {
		return fieldErr(field, "must be a service name (1-%d characters, no '/')", registry.MaxNameLength)
	}
	return nil
}

func validSelector(field string, sel map[string]string) error {
	if len(sel) == 0 {
		return fieldErr(field, "at least one label is required")
	}
	for k := range sel {
		if k == "" {
			return fieldErr(field, "label names must not be empty")
		}
	}
	return nil
}

func positive(field string, d *Duration) error {
	if d != nil && *d <= 0 {
		return fieldErr(field, "must be a positive duration")
	}
	return nil
}

// IdempotentMethods are retried by default.
var IdempotentMethods = []string{http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace}

// reservedPolicyHeader reports names a ServicePolicy may not set: the
// framing and hop-by-hop headers, Host, and the mesh's own X-Mesh-*.
func reservedPolicyHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Te", "Trailer",
		"Upgrade", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization":
		return true
	}
	return strings.HasPrefix(http.CanonicalHeaderKey(name), "X-Mesh-")
}
