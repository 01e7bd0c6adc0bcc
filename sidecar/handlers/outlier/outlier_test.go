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

// fixture is a service of three endpoints a, b, c behind an outlier
// handler on a settable clock; send fails the request on the named one.
type fixture struct {
	now  time.Time
	byID map[string]*table.Endpoint
	send func(target string)
}

func newFixture(cfg *Config) *fixture {
	var insts []*registry.Instance
	for _, id := range []string{"a", "b", "c"} {
		i := &registry.Instance{ID: id, Service: "s", Host: "10.0.0.1", Port: 80}
		i.Normalize()
		insts = append(insts, i)
	}
	svc := table.Build(1, insts, nil, table.Options{}).Service("s")
	f := &fixture{now: time.Unix(100, 0), byID: map[string]*table.Endpoint{}}
	h := New(cfg, metrics.New(), nil)
	h.now = func() time.Time { return f.now }
	f.send = func(target string) {
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
	for _, e := range svc.Endpoints {
		f.byID[e.ID] = e
	}
	return f
}

func TestEjectionAndCap(t *testing.T) {
	f := newFixture(&Config{Consecutive5xx: 2, Interval: time.Hour, BaseEjectionTime: 10 * time.Second, MaxEjectionTime: time.Minute, MaxEjectionPercent: 34})
	now, send, byID := f.now, f.send, f.byID
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
	f.now = now
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

// Time out of ejection decays the count: after two intervals clean, the
// third ejection is as short as the first again.
func TestEjectionCountDecays(t *testing.T) {
	f := newFixture(&Config{Consecutive5xx: 1, Interval: 10 * time.Second, BaseEjectionTime: 10 * time.Second, MaxEjectionTime: time.Minute, MaxEjectionPercent: 50})
	a := f.byID["a"]
	f.send("a") // first ejection: 10 s
	f.now = f.now.Add(11 * time.Second)
	f.send("a") // back after 10 s, fails at once: second ejection, 20 s
	if !a.Stats.Ejected(f.now.Add(19*time.Second)) || a.Stats.Ejected(f.now.Add(21*time.Second)) {
		t.Fatal("second ejection right after the first should last 2 x base")
	}
	// 20 s of ejection, then 25 s clean: two intervals take the count to 0.
	f.now = f.now.Add(45 * time.Second)
	f.send("a")
	if !a.Stats.Ejected(f.now.Add(9*time.Second)) || a.Stats.Ejected(f.now.Add(11*time.Second)) {
		t.Errorf("after two clean intervals the ejection should last 1 x base (count %d)", a.Stats.Ejections.Load())
	}
}
