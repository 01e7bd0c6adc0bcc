package table

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
)

func inst(id, service string, labels map[string]string) *registry.Instance {
	i := &registry.Instance{ID: id, Service: service, Host: "10.0.0.1", Port: 80, Labels: labels}
	i.Normalize()
	return i
}

func res(t *testing.T, kind, name string, spec any) *registry.Resource {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &registry.Resource{Kind: kind, Name: name, Spec: b}
}

func TestBuildPools(t *testing.T) {
	c := &control.CanaryRule{Service: "Orders", Selector: map[string]string{"version": "v2"}}
	c.Match.Headers = []control.HeaderMatch{{Name: "x-canary", Exact: "1"}}
	down := inst("v1-down", "orders", map[string]string{"version": "v1"})
	down.Status = registry.StatusDown
	other := inst("elsewhere", "orders", nil)
	other.Namespace = "dev"
	tbl := Build(7, []*registry.Instance{
		inst("v1-a", "orders", map[string]string{"version": "v1"}),
		down,
		inst("v2-a", "ORDERS", map[string]string{"version": "v2"}),
		inst("sh", "orders", map[string]string{"shadow": "true", "version": "v2"}),
		inst("pay-1", "payments", map[string]string{"tier": "gold"}),
		other,
	}, []*registry.Resource{
		res(t, control.KindCanaryRule, "c", c),
		res(t, control.KindMirrorRule, "m", &control.MirrorRule{Service: "orders", Percent: 10, MirrorService: "payments", Subset: map[string]string{"tier": "gold"}}),
		res(t, control.KindTrafficSplit, "s2", &control.TrafficSplit{Service: "orders", Subsets: []control.Subset{{Labels: map[string]string{"version": "v1"}, Weight: 1}}}),
		res(t, control.KindTrafficSplit, "s1", &control.TrafficSplit{Service: "orders", Subsets: []control.Subset{{Labels: map[string]string{"version": "v1"}, Weight: 1}}}),
		{Kind: control.KindCanaryRule, Name: "broken", Spec: json.RawMessage(`{"service":"orders"}`)},
		res(t, control.KindCanaryRule, "dev-only", &control.CanaryRule{Service: "orders", Namespace: "dev", Selector: map[string]string{"a": "b"}, Match: c.Match}),
	}, Options{})
	s := tbl.Service("orders")
	if s == nil || tbl.Revision != 7 {
		t.Fatal("orders missing")
	}
	if len(s.Endpoints) != 4 {
		t.Errorf("endpoints %d, want 4 (other namespaces left out)", len(s.Endpoints))
	}
	if got := ids(s.Stable); len(got) != 1 || got[0] != "v1-a" {
		t.Errorf("stable = %v; want only the healthy, unheld, non-shadow v1-a", got)
	}
	if got := ids(s.Shadow); len(got) != 1 || got[0] != "sh" {
		t.Errorf("shadow = %v", got)
	}
	if len(s.Canaries) != 1 || len(s.Canaries[0].Pool.Endpoints) != 1 || s.Canaries[0].Pool.Endpoints[0].ID != "v2-a" {
		t.Errorf("canary pool wrong: %+v", s.Canaries)
	}
	if !s.Canaries[0].Matches(http.Header{"X-Canary": {"1"}}) {
		t.Error("header names must match case-insensitively")
	}
	if s.Split == nil || s.Split.Name != "s1" {
		t.Errorf("split = %+v; want s1 (first by name)", s.Split)
	}
	if s.Mirror == nil || len(s.Mirror.Pool.Endpoints) != 1 || s.Mirror.Pool.Endpoints[0].ID != "pay-1" {
		t.Errorf("mirror to another service wrong: %+v", s.Mirror)
	}
	if len(tbl.Warnings) != 2 {
		t.Errorf("warnings = %q; want the broken canary and the second split", tbl.Warnings)
	}
}

// Endpoint stats survive rebuilds for the same instance and address.
func TestHolderKeepsStatsAndSwaps(t *testing.T) {
	h := NewHolder(Options{}, nil)
	if h.Ready() {
		t.Fatal("ready before a snapshot")
	}
	swaps := 0
	h.OnSwap(func(*Table) { swaps++ })
	a := inst("a", "orders", nil)
	h.Snapshot(1, []*registry.Instance{a}, nil)
	first := h.Load().Service("orders").Endpoints[0].Stats
	first.Active.Store(3)
	b := inst("b", "orders", nil)
	h.Changes(2, []registry.Event{{Type: registry.EventPut, Kind: registry.KindInstance, Instance: b}})
	tbl := h.Load()
	if tbl.Revision != 2 || len(tbl.Service("orders").Endpoints) != 2 {
		t.Fatalf("after change: rev %d, %d endpoints", tbl.Revision, len(tbl.Service("orders").Endpoints))
	}
	if tbl.Service("orders").Endpoints[0].Stats != first {
		t.Error("stats of an unchanged endpoint were reset")
	}
	h.Changes(3, []registry.Event{{Type: registry.EventDelete, Kind: registry.KindInstance, Instance: a}})
	if n := len(h.Load().Service("orders").Endpoints); n != 1 {
		t.Errorf("after delete: %d endpoints", n)
	}
	if !h.Ready() || swaps != 4 { // initial + 3
		t.Errorf("ready %v swaps %d", h.Ready(), swaps)
	}
}
