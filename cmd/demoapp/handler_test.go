package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
)

func newTestApp(t *testing.T, cfg appConfig) *httptest.Server {
	t.Helper()
	a, err := newDemo(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, rawURL string, headers map[string]string) (int, Answer) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans Answer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	if resp.Header.Get(HeaderVersion) != ans.Version || resp.Header.Get(HeaderInstance) != ans.Instance {
		t.Fatalf("answer headers %v disagree with body %+v", resp.Header, ans)
	}
	return resp.StatusCode, ans
}

func stats(t *testing.T, base string) Stats {
	t.Helper()
	resp, err := http.Get(base + "/_demo/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAnswerNamesServiceVersionInstanceAndCountsShadow(t *testing.T) {
	srv := newTestApp(t, appConfig{Service: "orders", Version: "v2", Instance: "orders-1", Propagate: []string{"X-Canary"}})
	code, ans := get(t, srv.URL+"/items/7", map[string]string{"X-Canary": "true", "X-Other": "x"})
	if code != 200 || ans.Service != "orders" || ans.Version != "v2" || ans.Instance != "orders-1" || ans.Path != "/items/7" || ans.Shadow {
		t.Fatalf("answer %d %+v", code, ans)
	}
	if ans.Headers["X-Canary"] != "true" || ans.Headers["X-Other"] != "" {
		t.Fatalf("propagated headers %v: want only X-Canary", ans.Headers)
	}
	_, ans = get(t, srv.URL+"/", map[string]string{"X-Mesh-Shadow": "true"})
	if !ans.Shadow {
		t.Fatal("shadow request not reported as shadow")
	}
	if s := stats(t, srv.URL); s.Requests != 2 || s.Shadow != 1 || s.Plain != 1 || s.Errors != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRequestHeadersSteerLatencyAndStatus(t *testing.T) {
	srv := newTestApp(t, appConfig{Service: "orders", Version: "v1", Instance: "i"})
	start := time.Now()
	code, _ := get(t, srv.URL+"/", map[string]string{HeaderLatency: "60ms", HeaderStatus: "503"})
	if code != 503 || time.Since(start) < 60*time.Millisecond {
		t.Fatalf("status %d after %v: want 503 after at least 60ms", code, time.Since(start))
	}
	// Garbage in the steering headers is ignored, not obeyed.
	code, _ = get(t, srv.URL+"/", map[string]string{HeaderLatency: "soon", HeaderStatus: "999"})
	if code != 200 {
		t.Fatalf("status %d for bad steering headers", code)
	}
	if s := stats(t, srv.URL); s.Errors != 1 {
		t.Fatalf("errors %d, want 1", s.Errors)
	}
}

func TestFaultEndpoint(t *testing.T) {
	srv := newTestApp(t, appConfig{Service: "orders", Version: "v1", Instance: "i"})
	put := func(query string) int {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/_demo/fault?"+query, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("errorRate=1&status=502"); code != 200 {
		t.Fatalf("put fault: %d", code)
	}
	if code, _ := get(t, srv.URL+"/x", nil); code != 502 {
		t.Fatalf("status %d with errorRate 1, want 502", code)
	}
	for _, bad := range []string{"errorRate=2", "latency=-1s", "status=99", "latency=x&errorRate=0"} {
		if code := put(bad); code != 400 {
			t.Fatalf("bad fault %q answered %d", bad, code)
		}
	}
	// The refused changes changed nothing.
	if code, _ := get(t, srv.URL+"/x", nil); code != 502 {
		t.Fatalf("a refused fault change altered the fault: status %d", code)
	}
	if code := put("errorRate=0"); code != 200 {
		t.Fatal("reset fault")
	}
	if code, _ := get(t, srv.URL+"/x", nil); code != 200 {
		t.Fatalf("status %d after the fault was cleared", code)
	}
}

// forwardProxy stands in for the sidecar's egress (not in this package's
// reach): an HTTP proxy that sends http://<service>/ to the named backend.
func forwardProxy(t *testing.T, backends map[string]string) *httptest.Server {
	t.Helper()
	seen := make(chan http.Header, 16)
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		u, _ := url.Parse(backends[pr.In.URL.Hostname()])
		pr.SetURL(u)
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		select {
		case seen <- r.Header.Clone():
		default:
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCallGoesThroughEgressAndPropagatesHeaders(t *testing.T) {
	payments := newTestApp(t, appConfig{Service: "payments", Version: "v3", Instance: "pay-1", Propagate: []string{"X-Canary"}})
	proxy := forwardProxy(t, map[string]string{"payments": payments.URL})
	front := newTestApp(t, appConfig{Service: "front", Version: "v1", Instance: "front-1", Egress: proxy.URL, Propagate: []string{"X-Canary"}})

	code, ans := get(t, front.URL+"/call/payments/charge?x=1", map[string]string{"X-Canary": "blue", "X-Mesh-Shadow": "true", "X-Private": "p"})
	if code != 200 || ans.Downstream == nil {
		t.Fatalf("call answered %d %+v", code, ans)
	}
	d := ans.Downstream
	if d.Service != "payments" || d.Version != "v3" || d.Path != "/charge" || !d.Shadow {
		t.Fatalf("downstream answer %+v", d)
	}
	if d.Headers["X-Canary"] != "blue" || d.Headers["X-Mesh-Shadow"] != "true" {
		t.Fatalf("headers not propagated: %v", d.Headers)
	}
	// A downstream failure is the caller's failure.
	code, ans = get(t, front.URL+"/call/payments/x", map[string]string{HeaderStatus: "503"})
	if code != 503 || ans.Downstream != nil {
		// X-Demo-Status steers the first hop, which answers before calling.
		t.Fatalf("steered call: %d %+v", code, ans)
	}
	code, ans = get(t, front.URL+"/call/nowhere/x", nil)
	if code != http.StatusBadGateway || !strings.Contains(ans.Error, "downstream") {
		t.Fatalf("call to an unknown service: %d %+v", code, ans)
	}
}

func TestHealthEndpoint(t *testing.T) {
	srv := newTestApp(t, appConfig{Service: "orders", Version: "v1", Instance: "i"})
	resp, err := http.Get(srv.URL + "/actuator/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"UP"`) {
		t.Fatalf("health %d %s", resp.StatusCode, body)
	}
	if s := stats(t, srv.URL); s.Requests != 0 {
		t.Fatalf("health probes counted as traffic: %+v", s)
	}
}

// A call downstream answered only after the app's client re-sent it says
// so in the answer (the scenario runner counts it as failed).
func TestCallSaysItsClientResentIt(t *testing.T) {
	// The "egress" answers each connection's first request and cuts the
	// second: the second call reuses the connection and is re-sent.
	egress := servetest.ResendServer(t, `{"service":"payments","version":"v1","instance":"pay-1","path":"/x","status":200}`)
	front := newTestApp(t, appConfig{Service: "front", Version: "v1", Instance: "front-1", Egress: "http://" + egress})
	for i, want := range []bool{false, true} {
		code, ans := get(t, front.URL+"/call/payments/x", nil)
		if code != 200 || ans.Downstream == nil || ans.Resent != want {
			t.Fatalf("call %d answered %d %+v, want resent %t", i+1, code, ans, want)
		}
	}
}
