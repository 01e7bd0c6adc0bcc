package traffic

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
)

// demoLike answers like the demo app: its version depends on a header, and
// calls to /call answer with a downstream hop.
func demoLike(t *testing.T, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		version := "v1"
		if r.Header.Get("X-Canary") == "true" {
			version = "v2"
			w.Header().Set("X-Served-From", "mesh")
		}
		if r.Header.Get("X-Fail") != "" {
			w.WriteHeader(503)
		}
		fmt.Fprintf(w, `{"service":"Front","version":"f1","instance":"f-0","downstream":{"service":"orders","version":%q,"instance":"o-1"}}`, version)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// proxiedClient sends every request to srv as an HTTP proxy would receive it.
func proxiedClient(srv *httptest.Server) *http.Client {
	u, _ := url.Parse(srv.URL)
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(u), MaxIdleConnsPerHost: 100}}
}

func TestRunColoursSharesAndRecordsVersions(t *testing.T) {
	srv := demoLike(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := Start(ctx, Plan{
		Name: "t", URL: "http://front/call/orders/", Method: "GET", Rate: 200, Requests: 500,
		Classes: []Class{{Name: "colored", Share: 0.2, Headers: map[string]string{"X-Canary": "true"}}},
		Timeout: 5 * time.Second, MaxInFlight: 1000, Client: proxiedClient(srv),
		Origin: func(resp *http.Response, instance string) string {
			if instance == "" {
				t.Errorf("Origin called without the answer's instance")
			}
			return resp.Header.Get("X-Served-From")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	samples := r.Samples()
	if len(samples) != 500 {
		t.Fatalf("%d samples, want 500", len(samples))
	}
	all := Summarise(samples, "")
	colored := Summarise(samples, "colored")
	if all.Failed != 0 || math.Abs(float64(colored.Requests)-100) > 2 {
		t.Fatalf("summary all %+v, colored %d requests (want 100±2)", all, colored.Requests)
	}
	shares, n := Shares(samples, "colored", "orders")
	if shares["v2"] != 1 || n != colored.Requests {
		t.Fatalf("colored shares %v over %d", shares, n)
	}
	shares, _ = Shares(samples, DefaultClass, "orders")
	if shares["v1"] != 1 {
		t.Fatalf("default shares %v", shares)
	}
	// Service names are matched case-insensitively (Eureka upper-cases).
	if shares, _ := Shares(samples, "", "front"); shares["f1"] != 1 {
		t.Fatalf("front shares %v", shares)
	}
	// Progress counts the versions of the target service (front).
	if p := r.Progress(); !p.Finished || p.Sent != 500 || p.Done != 500 || p.Versions["f1"] != 500 {
		t.Fatalf("progress %+v", p)
	}
	// The timeline holds the same requests, second by second (500 at 200/s
	// are due in seconds 0, 1 and 2), the target's version with its origin.
	tl := r.Timeline()
	if len(tl) != 3 {
		t.Fatalf("timeline has %d seconds, want 3: %+v", len(tl), tl)
	}
	requests, colouredMesh := 0, 0
	for _, sec := range tl {
		requests += sec.Requests
		if c := sec.Classes["colored"]; len(c.Served) != 1 || c.Served[0] != (Served{Version: "f1", Origin: "mesh", Count: c.Requests}) {
			t.Fatalf("second %d colored %+v", sec.At, c)
		}
		colouredMesh += sec.Classes["colored"].Served[0].Count
		if d := sec.Classes[DefaultClass]; d.Served[0].Origin != "" || d.Requests+sec.Classes["colored"].Requests != sec.Requests {
			t.Fatalf("second %d %+v", sec.At, sec)
		}
	}
	if requests != 500 || colouredMesh != colored.Requests || tl[0].Requests != 200 || tl[2].Requests != 100 {
		t.Fatalf("timeline %+v", tl)
	}
}

func TestTimelineSecondsFailuresAndP99(t *testing.T) {
	tl := newTimeline("orders", false)
	// Second 0: 100 answers from 1 to 100 ms, v1 then v2; second 2: two
	// failures (second 1 has nothing due).
	for i := 1; i <= 100; i++ {
		v := "v1"
		if i > 60 {
			v = "v2"
		}
		tl.add(&Sample{Class: DefaultClass, Offset: time.Duration(i) * 9 * time.Millisecond, Status: 200,
			Latency: time.Duration(i) * time.Millisecond, Versions: map[string]string{"orders": v}})
	}
	tl.add(&Sample{Class: DefaultClass, Offset: 2500 * time.Millisecond, Status: 503, Latency: 300 * time.Millisecond})
	tl.add(&Sample{Class: DefaultClass, Offset: 2600 * time.Millisecond, Err: "timeout"})
	got := tl.snapshot()
	if len(got) != 3 || got[1].Requests != 0 || got[1].P99 != 0 || got[0].Classes != nil {
		t.Fatalf("seconds %+v", got)
	}
	s0 := got[0]
	if s0.Requests != 100 || s0.Failed != 0 || len(s0.Served) != 2 || s0.Served[0] != (Served{Version: "v1", Count: 60}) || s0.Served[1] != (Served{Version: "v2", Count: 40}) {
		t.Fatalf("second 0 %+v", s0)
	}
	// The true p99 is 99 ms; the histogram's cell reads at most 9% above.
	if s0.P99 < 99*time.Millisecond || s0.P99 > 108*time.Millisecond {
		t.Fatalf("second 0 p99 %v, want 99 ms to 108 ms", s0.P99)
	}
	// A 503 is answered (its latency counts), not served; a timeout neither.
	if s2 := got[2]; s2.Requests != 2 || s2.Failed != 2 || s2.Served != nil || s2.P99 != 300*time.Millisecond {
		t.Fatalf("second 2 %+v", s2)
	}
}

func TestLatencyCells(t *testing.T) {
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 101 * time.Microsecond, time.Millisecond, 37 * time.Millisecond, 5 * time.Second, time.Hour} {
		c := latencyCell(d)
		if top := cellTop(c); top < d || (c > 0 && cellTop(c-1) >= d) {
			t.Fatalf("%v in cell %d (top %v, previous top %v)", d, c, top, cellTop(c-1))
		}
	}
}

func TestRunIsOpenLoop(t *testing.T) {
	// A server that takes 200 ms per answer with one request allowed in
	// flight: a closed-loop client would slow down; this one must keep its
	// schedule and report the requests it could not start.
	srv := demoLike(t, 200*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	r, err := Start(ctx, Plan{Name: "t", URL: "http://front/", Method: "GET", Rate: 100, Requests: 50,
		Timeout: 5 * time.Second, MaxInFlight: 1, Client: proxiedClient(srv)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	s := Summarise(r.Samples(), "")
	if took > 2*time.Second || s.Errors["overloaded: maxInFlight reached"] < 40 {
		t.Fatalf("took %v, summary %+v: want the schedule kept (~0.5 s + one answer) and most requests overloaded", took, s)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	srv := demoLike(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Start(ctx, Plan{Name: "t", URL: "http://front/", Method: "GET", Rate: 50, Duration: time.Hour,
		Timeout: time.Second, MaxInFlight: 10, Client: proxiedClient(srv)})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := r.Wait(wctx); err != nil {
		t.Fatal("run did not stop after cancel")
	}
}

func TestSummaryCountsStatusErrorsAndPercentiles(t *testing.T) {
	var samples []Sample
	for i := 1; i <= 100; i++ {
		samples = append(samples, Sample{Class: DefaultClass, Status: 200, Latency: time.Duration(i) * time.Millisecond})
	}
	samples = append(samples, Sample{Class: DefaultClass, Status: 503, Latency: time.Millisecond}, Sample{Class: DefaultClass, Err: "timeout"})
	s := Summarise(samples, "")
	if s.Requests != 102 || s.Failed != 2 || s.Errors["status 503"] != 1 || s.Errors["timeout"] != 1 {
		t.Fatalf("summary %+v", s)
	}
	if s.P50 != 50*time.Millisecond || s.P99 != 99*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Fatalf("percentiles p50 %v p99 %v max %v", s.P50, s.P99, s.Max)
	}
}

func TestPlanValidation(t *testing.T) {
	c := &http.Client{}
	for _, p := range []Plan{
		{Name: "a", Rate: 0, Requests: 1, Timeout: time.Second, MaxInFlight: 1, Client: c},
		{Name: "b", Rate: 1, Timeout: time.Second, MaxInFlight: 1, Client: c},
		{Name: "c", Rate: 1, Requests: 1, Timeout: time.Second, MaxInFlight: 1},
	} {
		if _, err := Start(context.Background(), p); err == nil {
			t.Fatalf("plan %s accepted", p.Name)
		}
	}
}

func TestRunCountsAClientResendAsFailed(t *testing.T) {
	addr := servetest.ResendServer(t, `{"service":"front","version":"v1","instance":"f-0"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}}
	r, err := Start(ctx, Plan{Name: "t", URL: "http://" + addr + "/", Method: "GET", Rate: 20, Requests: 2,
		Timeout: 5 * time.Second, MaxInFlight: 1, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	samples := r.Samples()
	if len(samples) != 2 {
		t.Fatalf("%d samples, want 2", len(samples))
	}
	// The first request had a fresh connection; the second reused it, was
	// cut, and was answered only on the re-sent attempt.
	if !samples[0].OK() || samples[0].Resent {
		t.Fatalf("first request %+v, want answered first time", samples[0])
	}
	if samples[1].Status != http.StatusOK || !samples[1].Resent || samples[1].OK() {
		t.Fatalf("second request %+v, want a 200 marked re-sent and counted failed", samples[1])
	}
	s := Summarise(samples, "")
	if s.Failed != 1 || s.Resent != 1 || s.Errors[errResent] != 1 {
		t.Fatalf("summary %+v, want 1 failed, 1 re-sent", s)
	}
}
