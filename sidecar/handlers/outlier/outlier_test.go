package outlier

import (
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

func TestEjectionAndCap(t *testing.T) {
	var insts []*registry.Instance
	for _, id := range []string{"a", "b", "c"} {
		i := &registry.Instance{ID: id, Service: "s", Host: "10.0.0.1", Port: 80}
		i.Normalize()
		insts = append(insts, i)
	}
	svc := table.Build(1, insts, nil, table.Options{}).Service("s")
	now := time.Unix(100, 0)
	h := New(&Config{Consecutive5xx: 2, BaseEjectionTime: 10 * time.Second, MaxEjectionTime: time.Minute, MaxEjectionPercent: 34}, metrics.New(), nil)
	h.now = func() time.Time { return now }
	// next fails on whichever endpoint the test names.
	send := func(target string) {
		r, _ := http.NewRequest("GET", "/", nil)
		ex := chain.NewExchange(r, chain.Outbound, nil)
		ex.Service, ex.Pool, ex.Candidates = svc, svc.Stable, svc.Stable.Endpoints
		_, _ = h.Serve(ex, func(ex *chain.Exchange) (*http.Response, error) {
			for _, e := range ex.Candidates {
				if e.ID == target {
					ex.Endpoint = e
					return &http.Response{StatusCode: 503, Body: http.NoBody}, nil
				}
			}
			ex.Endpoint = ex.Candidates[0]
			return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
		})
	}
	byID := map[string]*table.Endpoint{}
	for _, e := range svc.Endpoints {
		byID[e.ID] = e
	}
	send("a")
	if byID["a"].Stats.Ejected(now) {
		t.Fatal("ejected after one failure")
	}
	send("a")
	if !byID["a"].Stats.Ejected(now) {
		t.Fatal("not ejected after two failures in a row")
	}
	// 34% of 3 allows one ejection: b fails as much but stays.
	send("b")
	send("b")
	if byID["b"].Stats.Ejected(now) {
		t.Fatal("b ejected beyond maxEjectionPercent")
	}
	// The ejection ends after BaseEjectionTime; the second lasts twice as long.
	now = now.Add(11 * time.Second)
	send("c") // any request clears the expired ejection
	if byID["a"].Stats.Ejected(now) {
		t.Fatal("still ejected after BaseEjectionTime")
	}
	send("a")
	send("a")
	if !byID["a"].Stats.Ejected(now.Add(15*time.Second)) || byID["a"].Stats.Ejected(now.Add(21*time.Second)) {
		t.Error("second ejection should last 2 x BaseEjectionTime")
	}
}
