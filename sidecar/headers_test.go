package sidecar_test

import (
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
)

// ServicePolicy.headers are set after routing: the canary still sees the
// app's header that the policy removes, and the upstream sees the policy's
// values.
func TestPolicyHeadersSetAfterRouting(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	stable, canaryApp := startEcho(t, "stable"), startEcho(t, "canary")
	seen := make(chan http.Header, 2)
	record := func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		w.Header().Set("X-Instance", r.Host)
	}
	stable.setHandle(record)
	canaryApp.setHandle(record)
	pol := &control.ServicePolicy{Service: "orders", Headers: map[string]string{"X-Env": "prod", "X-Canary": ""}}
	h.set([]*registry.Instance{
		stable.instance("orders", map[string]string{"version": "v1"}),
		canaryApp.instance("orders", map[string]string{"version": "v2"}),
	}, resource(t, control.KindServicePolicy, "p", pol),
		resource(t, control.KindCanaryRule, "c", canary("orders", 1, map[string]string{"version": "v2"}, "",
			control.HeaderMatch{Name: "X-Canary", Exact: "true"})))

	resp, _ := h.get(t, "orders", "/", map[string]string{"X-Canary": "true", "X-Env": "dev", "X-Other": "kept"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := <-seen
	if canaryApp.hits.Load() != 1 || stable.hits.Load() != 0 {
		t.Errorf("colored request went to stable (canary hits %d, stable hits %d): routing saw the policy's removal", canaryApp.hits.Load(), stable.hits.Load())
	}
	if got.Get("X-Env") != "prod" || got.Get("X-Other") != "kept" || got.Values("X-Canary") != nil {
		t.Errorf("upstream saw X-Env=%q X-Other=%q X-Canary=%q; want prod, kept, none", got.Get("X-Env"), got.Get("X-Other"), got.Values("X-Canary"))
	}
}
