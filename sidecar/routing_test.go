package sidecar_test

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
)

func canary(service string, priority int, sel map[string]string, fallback control.Fallback, hm ...control.HeaderMatch) *control.CanaryRule {
	c := &control.CanaryRule{Service: service, Priority: priority, Selector: sel, Fallback: fallback}
	c.Match.Headers = hm
	return c
}

// Colored requests go 100% to the canary instance; uncolored ones never do.
func TestCanaryRoutingExactness(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	s1, s2, c1 := startEcho(t, "stable-1"), startEcho(t, "stable-2"), startEcho(t, "canary-1")
	h.set([]*registry.Instance{
		s1.instance("orders", map[string]string{"version": "v1"}),
		s2.instance("orders", map[string]string{"version": "v1"}),
		c1.instance("orders", map[string]string{"version": "v2"}),
	}, resource(t, control.KindCanaryRule, "orders-v2", canary("orders", 1, map[string]string{"version": "v2"}, "",
		control.HeaderMatch{Name: "X-Canary", Exact: "true"})))

	const n = 300
	colored := h.count(t, "orders", n, map[string]string{"X-Canary": "true"})
	if colored["canary-1"] != n {
		t.Errorf("colored requests: %v; want all %d on canary-1", colored, n)
	}
	plain := h.count(t, "orders", n, nil)
	if plain["canary-1"] != 0 || plain["stable-1"]+plain["stable-2"] != n {
		t.Errorf("uncolored requests: %v; want none on canary-1, all %d on stable", plain, n)
	}
	// A header that does not match exactly is uncolored.
	other := h.count(t, "orders", 50, map[string]string{"X-Canary": "yes"})
	if other["canary-1"] != 0 {
		t.Errorf("non-matching header reached the canary: %v", other)
	}
}

// Header matchers: prefix, regex, present and inverted.
func TestCanaryHeaderMatchers(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	st, cn := startEcho(t, "stable"), startEcho(t, "canary")
	insts := []*registry.Instance{
		st.instance("orders", map[string]string{"version": "v1"}),
		cn.instance("orders", map[string]string{"version": "v2"}),
	}
	sel := map[string]string{"version": "v2"}
	tests := []struct {
		name  string
		match control.HeaderMatch
		hdr   map[string]string
		want  string
	}{
		{"prefix hit", control.HeaderMatch{Name: "X-User", Prefix: "beta-"}, map[string]string{"X-User": "beta-7"}, "canary"},
		{"prefix miss", control.HeaderMatch{Name: "X-User", Prefix: "beta-"}, map[string]string{"X-User": "alpha"}, "stable"},
		{"regex hit", control.HeaderMatch{Name: "X-User", Regex: "^u[0-9]+$"}, map[string]string{"X-User": "u42"}, "canary"},
		{"regex miss", control.HeaderMatch{Name: "X-User", Regex: "^u[0-9]+$"}, map[string]string{"X-User": "u42x"}, "stable"},
		{"present hit", control.HeaderMatch{Name: "X-Debug", Present: true}, map[string]string{"X-Debug": ""}, "canary"},
		{"present miss", control.HeaderMatch{Name: "X-Debug", Present: true}, nil, "stable"},
		{"inverted", control.HeaderMatch{Name: "X-Region", Exact: "eu", Invert: true}, map[string]string{"X-Region": "us"}, "canary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.set(insts, resource(t, control.KindCanaryRule, "c", canary("orders", 1, sel, "", tt.match)))
			for range 10 {
				if resp, _ := h.get(t, "orders", "/", tt.hdr); resp.Header.Get("X-Instance") != tt.want {
					t.Fatalf("went to %q (status %d), want %q", resp.Header.Get("X-Instance"), resp.StatusCode, tt.want)
				}
			}
		})
	}
}

// With overlapping canaries the highest priority wins; ties go to the name
// that sorts first.
func TestCanaryPriority(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	st, v2, v3 := startEcho(t, "stable"), startEcho(t, "v2"), startEcho(t, "v3")
	insts := []*registry.Instance{
		st.instance("orders", map[string]string{"version": "v1"}),
		v2.instance("orders", map[string]string{"version": "v2"}),
		v3.instance("orders", map[string]string{"version": "v3"}),
	}
	broad := canary("orders", 10, map[string]string{"version": "v2"}, "", control.HeaderMatch{Name: "X-User", Prefix: "beta"})
	narrow := canary("orders", 20, map[string]string{"version": "v3"}, "", control.HeaderMatch{Name: "X-User", Exact: "beta-7"})
	h.set(insts, resource(t, control.KindCanaryRule, "broad", broad), resource(t, control.KindCanaryRule, "narrow", narrow))
	for hdr, want := range map[string]string{"beta-7": "v3", "beta-1": "v2", "gamma": "stable"} {
		got := h.count(t, "orders", 40, map[string]string{"X-User": hdr})
		if got[want] != 40 {
			t.Errorf("X-User %s: %v; want all on %s", hdr, got, want)
		}
	}
	// Equal priority: "a-rule" sorts before "b-rule" and wins.
	a := canary("orders", 5, map[string]string{"version": "v3"}, "", control.HeaderMatch{Name: "X-User", Present: true})
	b := canary("orders", 5, map[string]string{"version": "v2"}, "", control.HeaderMatch{Name: "X-User", Present: true})
	h.set(insts, resource(t, control.KindCanaryRule, "b-rule", b), resource(t, control.KindCanaryRule, "a-rule", a))
	if got := h.count(t, "orders", 40, map[string]string{"X-User": "x"}); got["v3"] != 40 {
		t.Errorf("tie: %v; want all on v3 (a-rule)", got)
	}
}

// At most maxCanaries rules per service are active: the oldest are kept and
// the rest are reported, never routed.
func TestCanaryCap(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	var insts []*registry.Instance
	var res []*registry.Resource
	st := startEcho(t, "stable")
	insts = append(insts, st.instance("orders", map[string]string{"version": "v0"}))
	for i := 1; i <= 6; i++ {
		id := "v" + string(rune('0'+i))
		e := startEcho(t, id)
		insts = append(insts, e.instance("orders", map[string]string{"version": id}))
		r := resource(t, control.KindCanaryRule, "canary-"+id,
			canary("orders", 1, map[string]string{"version": id}, "", control.HeaderMatch{Name: "X-Canary", Exact: id}))
		r.Created = r.Created.Add(time6(i))
		r.Revision = int64(i)
		res = append(res, r)
	}
	h.set(insts, res...)
	for i := 1; i <= 5; i++ {
		id := "v" + string(rune('0'+i))
		if resp, _ := h.get(t, "orders", "/", map[string]string{"X-Canary": id}); resp.Header.Get("X-Instance") != id {
			t.Errorf("canary %s went to %q", id, resp.Header.Get("X-Instance"))
		}
	}
	// The sixth rule is not active: its header is uncolored traffic, and its
	// instance is not held, so it serves stable traffic like any other.
	got := h.count(t, "orders", 60, map[string]string{"X-Canary": "v6"})
	if got["stable"]+got["v6"] != 60 || got["stable"] == 0 || got["v6"] == 0 {
		t.Errorf("sixth canary's requests: %v; want them spread over stable and v6", got)
	}
	tbl := h.sc.Tables().Load()
	if len(tbl.Service("orders").Canaries) != 5 {
		t.Errorf("%d canaries active, want 5", len(tbl.Service("orders").Canaries))
	}
	if len(tbl.Warnings) != 1 || !strings.Contains(tbl.Warnings[0], "canary-v6") {
		t.Errorf("warnings = %q; want one naming canary-v6", tbl.Warnings)
	}
}

// When a canary's instances are all unhealthy, fallback stable sends its
// traffic to the stable instances and fallback fail answers 503.
func TestCanaryFallback(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	st, cn := startEcho(t, "stable"), startEcho(t, "canary")
	down := cn.instance("orders", map[string]string{"version": "v2"})
	down.Status = registry.StatusDown
	insts := []*registry.Instance{st.instance("orders", map[string]string{"version": "v1"}), down}
	hdr := map[string]string{"X-Canary": "true"}
	m := control.HeaderMatch{Name: "X-Canary", Exact: "true"}
	sel := map[string]string{"version": "v2"}

	h.set(insts, resource(t, control.KindCanaryRule, "c", canary("orders", 1, sel, control.FallbackStable, m)))
	if resp, _ := h.get(t, "orders", "/", hdr); resp.StatusCode != 200 || resp.Header.Get("X-Instance") != "stable" {
		t.Errorf("fallback stable: status %d instance %q", resp.StatusCode, resp.Header.Get("X-Instance"))
	}
	h.set(insts, resource(t, control.KindCanaryRule, "c", canary("orders", 1, sel, control.FallbackFail, m)))
	if resp, _ := h.get(t, "orders", "/", hdr); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Mesh-Error") != "no_healthy_upstream" {
		t.Errorf("fallback fail: status %d error %q", resp.StatusCode, resp.Header.Get("X-Mesh-Error"))
	}
	// Uncolored traffic still never reaches the (held) canary instance,
	// even once it is healthy again.
	insts[1] = cn.instance("orders", map[string]string{"version": "v2"})
	h.set(insts, resource(t, control.KindCanaryRule, "c", canary("orders", 1, sel, control.FallbackFail, m)))
	if got := h.count(t, "orders", 40, nil); got["canary"] != 0 {
		t.Errorf("uncolored: %v", got)
	}
}

// TrafficSplit weights hold within statistical tolerance.
func TestSplitProportions(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	a, b, c := startEcho(t, "v1-a"), startEcho(t, "v1-b"), startEcho(t, "v2-a")
	split := &control.TrafficSplit{Service: "orders", Subsets: []control.Subset{
		{Labels: map[string]string{"version": "v1"}, Weight: 40},
		{Labels: map[string]string{"version": "v2"}, Weight: 60},
	}}
	h.set([]*registry.Instance{
		a.instance("orders", map[string]string{"version": "v1"}),
		b.instance("orders", map[string]string{"version": "v1"}),
		c.instance("orders", map[string]string{"version": "v2"}),
	}, resource(t, control.KindTrafficSplit, "orders-split", split))
	const n = 2000
	got := h.count(t, "orders", n, nil)
	v2 := float64(got["v2-a"]) / n
	// Five standard deviations of a binomial(2000, 0.6): a false alarm is
	// about one in 3.5 million runs.
	tol := 5 * math.Sqrt(0.6*0.4/n)
	if math.Abs(v2-0.6) > tol || got["v1-a"]+got["v1-b"]+got["v2-a"] != n {
		t.Errorf("split: %v (v2 share %.3f); want 0.60 ± %.3f", got, v2, tol)
	}
}

// Shadow instances get only requests with X-Mesh-Shadow: true, and those
// requests go only to them.
func TestShadowRouting(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	st, sh := startEcho(t, "stable"), startEcho(t, "shadow")
	h.set([]*registry.Instance{
		st.instance("orders", nil),
		sh.instance("orders", map[string]string{"shadow": "true"}),
	})
	if got := h.count(t, "orders", 100, nil); got["shadow"] != 0 || got["stable"] != 100 {
		t.Errorf("plain requests: %v; want none on the shadow", got)
	}
	if got := h.count(t, "orders", 100, map[string]string{control.HeaderShadow: "true"}); got["shadow"] != 100 {
		t.Errorf("shadow requests: %v; want all on the shadow", got)
	}
}

// A host that is neither a mesh service nor allowed gets 503 unknown_service.
func TestUnknownService(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	h.set(nil)
	resp, _ := h.get(t, "nowhere", "/", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Mesh-Error") != "unknown_service" {
		t.Errorf("status %d error %q", resp.StatusCode, resp.Header.Get("X-Mesh-Error"))
	}
}
