package loadbalance

import (
	"math"
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

func pool(t *testing.T, weights ...float64) *table.Pool {
	t.Helper()
	var insts []*registry.Instance
	for i, w := range weights {
		inst := &registry.Instance{ID: string(rune('a' + i)), Service: "s", Host: "10.0.0.1", Port: 1000 + i, Weight: w}
		inst.Normalize()
		insts = append(insts, inst)
	}
	return table.Build(1, insts, nil, table.Options{}).Service("s").Stable
}

func pick(lb string, p *table.Pool, r *http.Request, hdr string) *table.Endpoint {
	pol := &control.LoadBalancerPolicy{Policy: lb, HashHeader: hdr}
	return Pick(pol, p, p.Endpoints, true, r)
}

func TestRoundRobin(t *testing.T) {
	p := pool(t, 1, 1, 1)
	r, _ := http.NewRequest("GET", "/", nil)
	got := map[string]int{}
	for range 30 {
		got[pick(control.LBRoundRobin, p, r, "").ID]++
	}
	if got["a"] != 10 || got["b"] != 10 || got["c"] != 10 {
		t.Errorf("round robin = %v, want 10 each", got)
	}
}

func TestWeightedRandom(t *testing.T) {
	p := pool(t, 1, 3)
	r, _ := http.NewRequest("GET", "/", nil)
	const n = 20000
	b := 0
	for range n {
		if pick(control.LBWeightedRandom, p, r, "").ID == "b" {
			b++
		}
	}
	share := float64(b) / n
	if tol := 5 * math.Sqrt(0.75*0.25/n); math.Abs(share-0.75) > tol {
		t.Errorf("weight 3 of 4 got %.3f of picks, want 0.75 ± %.3f", share, tol)
	}
	// Filtered candidates (no precomputed weights) still honour weights.
	cands := p.Endpoints[:1]
	if e := Pick(&control.LoadBalancerPolicy{Policy: control.LBWeightedRandom}, p, cands, false, r); e.ID != "a" {
		t.Errorf("only candidate not picked: %s", e.ID)
	}
}

func TestLeastRequestPrefersIdle(t *testing.T) {
	p := pool(t, 1, 1)
	p.Endpoints[0].Stats.Active.Store(50)
	r, _ := http.NewRequest("GET", "/", nil)
	for range 100 {
		if e := pick(control.LBLeastRequest, p, r, ""); e.ID != "b" {
			t.Fatalf("picked busy endpoint %s", e.ID)
		}
	}
}

func TestConsistentHash(t *testing.T) {
	p := pool(t, 1, 1, 1, 1)
	seen := map[string]bool{}
	for _, user := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("X-User", user)
		first := pick(control.LBConsistentHash, p, r, "X-User")
		for range 5 {
			if e := pick(control.LBConsistentHash, p, r, "X-User"); e != first {
				t.Fatalf("user %s moved from %s to %s", user, first.ID, e.ID)
			}
		}
		seen[first.ID] = true
		// Removing another endpoint does not move this key.
		var others []*table.Endpoint
		for _, e := range p.Endpoints {
			if e == first || len(others) < 2 {
				others = append(others, e)
			}
		}
		if e := Pick(&control.LoadBalancerPolicy{Policy: control.LBConsistentHash, HashHeader: "X-User"}, p, others, false, r); e != first {
			t.Errorf("user %s moved when another endpoint left", user)
		}
	}
	if len(seen) < 2 {
		t.Errorf("8 keys all hashed to %v", seen)
	}
	// Without the key, it falls back to round robin rather than failing.
	r, _ := http.NewRequest("GET", "/", nil)
	if pick(control.LBConsistentHash, p, r, "X-User") == nil {
		t.Fatal("no endpoint without a hash key")
	}
}

func TestUntriedAvoidsEarlierAttempts(t *testing.T) {
	p := pool(t, 1, 1)
	a, b := p.Endpoints[0], p.Endpoints[1]
	if got := untried(p.Endpoints, []*table.Endpoint{a}); len(got) != 1 || got[0] != b {
		t.Errorf("untried = %v", got)
	}
	if got := untried(p.Endpoints, []*table.Endpoint{a, b}); len(got) != 2 {
		t.Errorf("all tried: %d candidates, want all back", len(got))
	}
}
