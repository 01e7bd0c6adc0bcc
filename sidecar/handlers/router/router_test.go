package router

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

func inst(id string, healthy bool, labels map[string]string) *registry.Instance {
	i := &registry.Instance{ID: id, Service: "orders", Host: "10.0.0.1", Port: 80, Labels: labels}
	if !healthy {
		i.Status = registry.StatusDown
	}
	i.Normalize()
	return i
}

func res(t *testing.T, kind, name string, spec any) *registry.Resource {
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &registry.Resource{Kind: kind, Name: name, Spec: b}
}

func TestRoute(t *testing.T) {
	rule := &control.CanaryRule{Service: "orders", Selector: map[string]string{"version": "v2"}, Fallback: control.FallbackFail}
	rule.Match.Headers = []control.HeaderMatch{{Name: "X-Canary", Exact: "1"}}
	split := &control.TrafficSplit{Service: "orders", Subsets: []control.Subset{
		{Labels: map[string]string{"zone": "a"}, Weight: 1}, {Labels: map[string]string{"zone": "empty"}, Weight: 1000}}}
	canaryDown := table.Build(1, []*registry.Instance{
		inst("s1", true, map[string]string{"version": "v1", "zone": "a"}),
		inst("c1", false, map[string]string{"version": "v2"}),
	}, []*registry.Resource{res(t, control.KindCanaryRule, "c", rule), res(t, control.KindTrafficSplit, "s", split)}, table.Options{})
	noShadow := table.Build(1, []*registry.Instance{inst("s1", true, nil)}, nil, table.Options{})

	canary := http.Header{"X-Canary": {"1"}}
	tests := []struct {
		name       string
		failShadow bool
		tbl        *table.Table
		hdr        http.Header
		shadow     bool
		wantPool   string
		wantReason string
	}{
		{"unknown service", false, noShadow, nil, false, "", chain.ReasonUnknownService},
		{"canary down, fallback fail", false, canaryDown, canary, false, "canary:c", chain.ReasonNoHealthy},
		{"split skips an empty subset", false, canaryDown, nil, false, "split:zone=a", ""},
		{"shadow falls back to stable", false, noShadow, nil, true, "stable", ""},
		{"shadow fails when told to", true, noShadow, nil, true, "shadow", chain.ReasonNoHealthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(&Config{ShadowFallback: map[bool]string{false: "stable", true: "fail"}[tt.failShadow]})
			svc := tt.tbl.Service("orders")
			if tt.wantReason == chain.ReasonUnknownService {
				svc = nil
			}
			pool, err := h.Route(svc, tt.hdr, tt.shadow)
			if tt.wantReason != "" {
				if !chain.IsReason(err, tt.wantReason) {
					t.Fatalf("err = %v, want reason %s", err, tt.wantReason)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.wantPool != "" && (pool == nil || pool.Name != tt.wantPool) {
				t.Errorf("pool = %v, want %s", pool, tt.wantPool)
			}
		})
	}
}
