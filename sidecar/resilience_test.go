package sidecar_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/handlers/retry"
)

func dur(d time.Duration) *control.Duration { v := control.Duration(d); return &v }

// Under an upstream that always fails, the retry budget keeps retries near
// 20% of requests instead of the 3 retries per request the policy allows.
func TestRetryBudgetCapsRetries(t *testing.T) {
	cfg := testConfig(t, func(c *config.Config) {
		r := c.Handlers["retry"].(*retry.Config)
		r.MinRetriesPerSecond = 0 // only the percentage counts here
		r.Backoff = time.Millisecond
	})
	h := startSidecar(t, cfg, nil)
	bad := startEcho(t, "failing")
	bad.setHandle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	pol := &control.ServicePolicy{Service: "orders", Retry: &control.RetryPolicy{Attempts: 3, RetryOn: []string{"503"}, BudgetPercent: 20}}
	h.set([]*registry.Instance{bad.instance("orders", nil)}, resource(t, control.KindServicePolicy, "p", pol))
	const n = 400
	got := h.count(t, "orders", n, nil)
	if got["status 503 "] != n {
		t.Fatalf("responses: %v; want all %d to be the upstream's 503", got, n)
	}
	hits := bad.hits.Load()
	retries := hits - n
	// A few retries may slip in while the first requests fill the window.
	if retries < n/10 || retries > n*20/100+5 {
		t.Errorf("upstream saw %d requests for %d calls (%d retries); want retries within 10%%..20%% of calls", hits, n, retries)
	}
}

// Retries go to another instance after a connect failure, for any method.
func TestRetryOnConnectFailure(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	good := startEcho(t, "good")
	dead := listen(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	deadInst := good.instance("orders", nil)
	deadInst.ID = "dead"
	_, port, _ := splitHostPort(deadAddr)
	deadInst.Port = port
	h.set([]*registry.Instance{good.instance("orders", nil), deadInst})
	got := h.count(t, "orders", 50, nil)
	if got["good"] != 50 {
		t.Errorf("responses: %v; want all 50 answered by good after retrying the dead instance", got)
	}
}

// The breaker opens after consecutive failures, answers 503 at once while
// open, lets a probe through after openDuration and closes when it succeeds.
func TestBreakerTransitions(t *testing.T) {
	cfg := testConfig(t, func(c *config.Config) {
		c.Handlers["retry"].(*retry.Config).Attempts = 0
	})
	h := startSidecar(t, cfg, nil)
	var failing atomic.Bool
	failing.Store(true)
	up := startEcho(t, "up")
	up.setHandle(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	// The open time is switched by re-applying the policy (the circuit's
	// state survives table swaps), so no step depends on how fast this
	// machine is: long while the test asserts "open", short to reach half-open.
	policy := func(open time.Duration) {
		pol := &control.ServicePolicy{Service: "orders", CircuitBreaker: &control.BreakerPolicy{
			ConsecutiveFailures: 5, OpenDuration: dur(open), HalfOpenRequests: 1,
		}}
		h.set([]*registry.Instance{up.instance("orders", nil)}, resource(t, control.KindServicePolicy, "p", pol))
	}
	policy(time.Minute)
	for i := range 5 {
		if resp, _ := h.get(t, "orders", "/", nil); resp.StatusCode != 500 {
			t.Fatalf("request %d: status %d, want the upstream's 500", i, resp.StatusCode)
		}
	}
	// Open: the upstream is not asked.
	before := up.hits.Load()
	for range 10 {
		resp, _ := h.get(t, "orders", "/", nil)
		if resp.StatusCode != 503 || resp.Header.Get("X-Mesh-Error") != "circuit_open" {
			t.Fatalf("open breaker answered %d %q", resp.StatusCode, resp.Header.Get("X-Mesh-Error"))
		}
	}
	if up.hits.Load() != before {
		t.Fatalf("upstream got %d requests while the breaker was open", up.hits.Load()-before)
	}
	// Half-open after openDuration: one probe, which fails and reopens.
	policy(50 * time.Millisecond)
	poll.Until(t, "the half-open probe to fail", func() bool {
		resp, _ := h.get(t, "orders", "/", nil)
		return resp.StatusCode == 500
	}, poll.Within(5*time.Second))
	policy(time.Minute)
	if resp, _ := h.get(t, "orders", "/", nil); resp.Header.Get("X-Mesh-Error") != "circuit_open" {
		t.Fatalf("failed probe must reopen the breaker; got %d", resp.StatusCode)
	}
	// The upstream recovers: the next probe succeeds and the breaker closes.
	failing.Store(false)
	policy(50 * time.Millisecond)
	poll.Until(t, "the half-open probe to succeed", func() bool {
		resp, _ := h.get(t, "orders", "/", nil)
		return resp.StatusCode == 200
	}, poll.Within(5*time.Second))
	if got := h.count(t, "orders", 20, nil); got["up"] != 20 {
		t.Errorf("closed breaker: %v", got)
	}
	m := scrape(t, h.admin)
	for _, want := range []string{
		`meshbridge_sidecar_breaker_transitions_total{service="orders",state="open"} 2`,
		`meshbridge_sidecar_breaker_transitions_total{service="orders",state="half_open"} 2`,
		`meshbridge_sidecar_breaker_transitions_total{service="orders",state="closed"} 1`,
		`meshbridge_sidecar_breaker_state{service="orders"} 0`,
	} {
		if !contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// An instance failing in a row is ejected and the other instances take its
// traffic.
func TestOutlierEjection(t *testing.T) {
	cfg := testConfig(t, func(c *config.Config) { c.Handlers["retry"].(*retry.Config).Attempts = 0 })
	h := startSidecar(t, cfg, nil)
	good, bad := startEcho(t, "good"), startEcho(t, "bad")
	bad.setHandle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	pol := &control.ServicePolicy{Service: "orders", OutlierDetection: &control.OutlierPolicy{Consecutive5xx: 3, BaseEjectionTime: dur(time.Minute), MaxEjectionPercent: 50}}
	h.set([]*registry.Instance{good.instance("orders", nil), bad.instance("orders", nil)}, resource(t, control.KindServicePolicy, "p", pol))
	for range 10 { // round robin: bad sees at least 3 in a row of its own
		h.get(t, "orders", "/", nil)
	}
	before := bad.hits.Load()
	if got := h.count(t, "orders", 40, nil); got["good"] != 40 {
		t.Errorf("after ejection: %v; want all on good", got)
	}
	if bad.hits.Load() != before {
		t.Errorf("ejected instance still got %d requests", bad.hits.Load()-before)
	}
	if m := scrape(t, h.admin); !contains(m, `meshbridge_sidecar_ejected_instances{service="orders"} 1`) {
		t.Errorf("ejected_instances metric missing")
	}
}

// Mirroring copies requests with X-Mesh-Shadow: true without the primary
// waiting for them or seeing their failures.
func TestMirrorDoesNotAffectPrimary(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	primary, mirror := startEcho(t, "primary"), startEcho(t, "mirror")
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	mirror.setHandle(func(w http.ResponseWriter, r *http.Request) {
		select { // the mirror hangs until the test lets it go, then fails
		case <-release:
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	rule := &control.MirrorRule{Service: "orders", Percent: 100, Subset: map[string]string{"shadow": "true"}}
	h.set([]*registry.Instance{
		primary.instance("orders", nil),
		mirror.instance("orders", map[string]string{"shadow": "true"}),
	}, resource(t, control.KindMirrorRule, "m", rule))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan map[string]int, 1)
	go func() { done <- h.count(t, "orders", 100, nil) }()
	select {
	case got := <-done:
		if got["primary"] != 100 {
			t.Errorf("primary responses: %v; want 100 from primary", got)
		}
	case <-ctx.Done():
		t.Fatal("primary requests waited for the hanging mirror")
	}
	releaseOnce.Do(func() { close(release) })
	poll.Until(t, "a shadow copy at the mirror", func() bool { return mirror.shadow.Load() > 0 }, poll.Within(5*time.Second))
	if mirror.shadow.Load() != mirror.hits.Load() {
		t.Errorf("mirror got %d requests, only %d with X-Mesh-Shadow: true", mirror.hits.Load(), mirror.shadow.Load())
	}
	if primary.shadow.Load() != 0 {
		t.Errorf("primary got %d shadow requests", primary.shadow.Load())
	}
	// Copies beyond the workers and the queue are dropped and counted, never
	// queued forever. A copy is counted when its answer is in, a moment
	// after the mirror saw it.
	poll.Until(t, "a mirror metric, sent or dropped", func() bool { // fails if no mirror metric, sent or dropped, shows up
		m := scrape(t, h.admin)
		return contains(m, `meshbridge_sidecar_mirror_requests_total{service="orders"}`) || contains(m, `meshbridge_sidecar_mirror_dropped_total{reason="error",service="orders"}`)
	}, poll.Within(5*time.Second))
}

// Rate limits refuse requests beyond the bucket with 429.
func TestRateLimitOutbound(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	up := startEcho(t, "up")
	pol := &control.ServicePolicy{Service: "orders", RateLimit: &control.RateLimitPolicy{Outbound: &control.TokenBucket{RPS: 0.01, Burst: 5}}}
	h.set([]*registry.Instance{up.instance("orders", nil)}, resource(t, control.KindServicePolicy, "p", pol))
	ok, limited := 0, 0
	for range 20 {
		resp, _ := h.get(t, "orders", "/", nil)
		switch resp.StatusCode {
		case 200:
			ok++
		case http.StatusTooManyRequests:
			limited++
		}
	}
	// 5 from the burst; at 0.01 rps nothing refills during the test.
	if ok != 5 || limited != 15 {
		t.Errorf("ok %d limited %d; want 5 through and the rest 429", ok, limited)
	}
}

// Fault injection aborts the configured share with the given status.
func TestFaultAbort(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	up := startEcho(t, "up")
	var pol control.ServicePolicy
	pol.Service = "orders"
	pol.Fault = &control.FaultPolicy{}
	pol.Fault.Abort = &struct {
		Percent float64 `json:"percent"`
		Status  int     `json:"status"`
	}{Percent: 100, Status: 418}
	pol.Fault.OnlyHeaders = []control.HeaderMatch{{Name: "X-Chaos", Present: true}}
	h.set([]*registry.Instance{up.instance("orders", nil)}, resource(t, control.KindServicePolicy, "p", &pol))
	if resp, _ := h.get(t, "orders", "/", map[string]string{"X-Chaos": "1"}); resp.StatusCode != 418 || resp.Header.Get("X-Mesh-Error") != "fault_abort" {
		t.Errorf("faulted request: %d %q", resp.StatusCode, resp.Header.Get("X-Mesh-Error"))
	}
	if resp, _ := h.get(t, "orders", "/", nil); resp.StatusCode != 200 {
		t.Errorf("request without the header: %d", resp.StatusCode)
	}
}

// Swapping rules under load drops no request and never mixes tables.
func TestHotRuleSwapUnderLoad(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	v1, v2 := startEcho(t, "v1"), startEcho(t, "v2")
	insts := []*registry.Instance{
		v1.instance("orders", map[string]string{"version": "v1"}),
		v2.instance("orders", map[string]string{"version": "v2"}),
	}
	toV1 := &control.TrafficSplit{Service: "orders", Subsets: []control.Subset{{Labels: map[string]string{"version": "v1"}, Weight: 1}}}
	toV2 := &control.TrafficSplit{Service: "orders", Subsets: []control.Subset{{Labels: map[string]string{"version": "v2"}, Weight: 1}}}
	h.set(insts, resource(t, control.KindTrafficSplit, "s", toV1))

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var total, failed atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, _, err := h.do("orders", "/", nil)
				total.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	swaps := 0
	for ctx.Err() == nil {
		spec := toV1
		if swaps%2 == 0 {
			spec = toV2
		}
		h.set(insts, resource(t, control.KindTrafficSplit, "s", spec))
		swaps++
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	if failed.Load() != 0 || total.Load() < 20 {
		t.Errorf("%d of %d requests failed across %d swaps", failed.Load(), total.Load(), swaps)
	}
	if v1.hits.Load() == 0 || v2.hits.Load() == 0 {
		t.Errorf("swaps did not take effect: v1 %d v2 %d", v1.hits.Load(), v2.hits.Load())
	}
}

// A POST that met a connect failure is sent again, body intact, although
// POST is not retried once the upstream may have seen it.
func TestRetryPostAfterConnectFailureKeepsBody(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	good := startEcho(t, "good")
	good.setHandle(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	dead := listen(t)
	_, port, _ := splitHostPort(dead.Addr().String())
	dead.Close()
	deadInst := good.instance("orders", nil)
	deadInst.ID, deadInst.Port = "dead", port
	h.set([]*registry.Instance{good.instance("orders", nil), deadInst})
	for i := range 20 {
		payload := strings.Repeat("p", 100+i)
		resp, err := h.client.Post("http://orders/", "text/plain", strings.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != payload {
			t.Fatalf("POST %d: %d %q; want the payload echoed", i, resp.StatusCode, b)
		}
	}
	// Some POSTs met the dead instance first (until outlier detection
	// ejected it) and were retried.
	if m := scrape(t, h.admin); !contains(m, `meshbridge_sidecar_retries_total{service="orders"}`) {
		t.Errorf("no retry happened, so the test proved nothing:\n%s", grepLines(m, "retries"))
	}
}
