package sidecar

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/handlers/transport"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// With the default config, a service without rules gets a chain of only
// the handlers that do something for it; each rule brings its handler in.
func TestDefaultChainsPerService(t *testing.T) {
	cfg := config.Default()
	cfg.Service.Name = "caller"
	tr, err := transport.New(cfg.Handlers[transport.Name].(*transport.Config), chain.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	deps := chain.Deps{Metrics: metrics.New(), LocalService: "caller", Send: tr.Send, Direction: chain.Outbound}
	out, hs, err := buildChain(cfg.Egress.Chain, cfg, deps, tr)
	defer func() {
		for _, h := range hs {
			if c, ok := h.(chain.Cleaner); ok {
				c.Cleanup()
			}
		}
	}()
	if err != nil {
		t.Fatal(err)
	}
	deps.Direction = chain.Inbound
	in, ihs, err := buildChain(cfg.Ingress.Chain, cfg, deps, tr)
	if err != nil {
		t.Fatal(err)
	}
	hs = append(hs, ihs...)

	spec := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	var insts []*registry.Instance
	for i, s := range []string{"plain", "limited", "mirrored", "faulty", "guarded", "caller"} {
		in := &registry.Instance{ID: s, Service: s, Host: "10.0.0.1", Port: 8000 + i}
		in.Normalize()
		insts = append(insts, in)
	}
	tbl := table.Build(1, insts, []*registry.Resource{
		{Kind: control.KindServicePolicy, Name: "l", Spec: spec(&control.ServicePolicy{Service: "limited",
			RateLimit: &control.RateLimitPolicy{Outbound: &control.TokenBucket{RPS: 5}}})},
		{Kind: control.KindMirrorRule, Name: "m", Spec: spec(&control.MirrorRule{Service: "mirrored", Percent: 10, MirrorService: "plain"})},
		{Kind: control.KindServicePolicy, Name: "f", Spec: spec(&control.ServicePolicy{Service: "faulty",
			Fault: &control.FaultPolicy{Abort: &struct {
				Percent float64 `json:"percent"`
				Status  int     `json:"status"`
			}{Percent: 1, Status: 503}}})},
		{Kind: control.KindServicePolicy, Name: "g", Spec: spec(&control.ServicePolicy{Service: "guarded",
			CircuitBreaker: &control.BreakerPolicy{ConsecutiveFailures: 3}, Retry: &control.RetryPolicy{Attempts: 0}})},
		{Kind: control.KindServicePolicy, Name: "h", Spec: spec(&control.ServicePolicy{Service: "headed",
			Headers: map[string]string{"X-Env": "prod"}})},
		{Kind: control.KindServicePolicy, Name: "c", Spec: spec(&control.ServicePolicy{Service: "caller",
			RateLimit: &control.RateLimitPolicy{Inbound: &control.TokenBucket{RPS: 5}}})},
	}, table.Options{})

	names := func(p *chain.Plan, s *table.Service) []string {
		var out []string
		for _, h := range p.Handlers(s) {
			out = append(out, h.Name())
		}
		return out
	}
	base := []string{"timeout", "router", "retry", "outlier", "loadbalance", "transport"}
	tests := []struct {
		plan    *chain.Plan
		service string
		want    []string
	}{
		{out, "plain", base},
		{out, "unknown", base},
		{out, "limited", append([]string{"ratelimit"}, base...)},
		{out, "mirrored", append([]string{"mirror"}, base...)},
		{out, "faulty", append([]string{"fault"}, base...)},
		{out, "headed", []string{"timeout", "router", "headers", "retry", "outlier", "loadbalance", "transport"}},
		{out, "guarded", []string{"timeout", "router", "breaker", "outlier", "loadbalance", "transport"}},
		{in, "plain", []string{"transport"}},
		{in, "caller", []string{"ratelimit", "transport"}},
	}
	for _, tt := range tests {
		if got := names(tt.plan, tbl.Service(tt.service)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: chain %v, want %v", tt.service, got, tt.want)
		}
	}
}
