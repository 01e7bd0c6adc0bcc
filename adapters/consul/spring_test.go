package consul

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
)

// These tests send what Spring Cloud Consul 5.x sends (NewService with
// Jackson's nulls, passing=true|false, wait=Ns) and check the answers
// against the JSON keys its Jackson models read, which are case-sensitive.

// springHeaders are the headers Spring's RestClient sends (no token configured).
var springHeaders = map[string]string{"Content-Type": "application/json", "Accept": "application/json"}

func springBody(t *testing.T, file string, repl ...string) *strings.Reader {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReader(strings.NewReplacer(repl...).Replace(string(b)))
}

func decodeJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestSpringDiscoveryFlow(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.spring-boot.actuator.v3+json")
		w.Write([]byte(`{"status":"UP"}`))
	}))
	defer app.Close()
	env := newEnv(t)

	status, _, msg := env.do("PUT", "/v1/agent/service/register", springBody(t, "spring-register-http.json", "{{HEALTH_URL}}", app.URL+"/actuator/health"), springHeaders)
	if status != 200 {
		t.Fatalf("register: %d %s", status, msg)
	}
	status, _, msg = env.do("PUT", "/v1/agent/service/register", springBody(t, "spring-register-ttl.json"), springHeaders)
	if status != 200 {
		t.Fatalf("register ttl: %d %s", status, msg)
	}
	// TtlScheduler: PUT /v1/agent/check/pass/service:<id> without a body.
	if status, _, msg := env.do("PUT", "/v1/agent/check/pass/service:billing-9090", nil, springHeaders); status != 200 {
		t.Fatalf("ttl pass: %d %s", status, msg)
	}

	// getInstances: passing=false returns the instance even before its HTTP check ran.
	status, hdr, body := env.do("GET", "/v1/health/service/orders?passing=false", nil, springHeaders)
	if status != 200 || hdr.Get("X-Consul-Index") == "" {
		t.Fatalf("health: %d %v", status, hdr)
	}
	entries := decodeJSON[[]map[string]json.RawMessage](t, body)
	if len(entries) != 1 {
		t.Fatalf("entries = %s", body)
	}
	node := decodeJSON[map[string]any](t, entries[0]["Node"])
	svc := decodeJSON[map[string]any](t, entries[0]["Service"])
	checks := decodeJSON[[]map[string]any](t, entries[0]["Checks"])
	for _, k := range []string{"ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta", "CreateIndex", "ModifyIndex"} {
		if _, ok := node[k]; !ok {
			t.Errorf("Node lacks %q: %v", k, node)
		}
	}
	if svc["ID"] != "orders-8080" || svc["Service"] != "orders" || svc["Address"] != "127.0.0.1" || svc["Port"] != float64(8080) {
		t.Errorf("Service = %v", svc)
	}
	if tags, ok := svc["Tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("Service.Tags = %#v, want []", svc["Tags"])
	}
	if meta, _ := svc["Meta"].(map[string]any); meta["secure"] != "false" || meta["zone"] != "zone-a" {
		t.Errorf("Service.Meta = %v", svc["Meta"])
	}
	for _, c := range checks {
		switch c["Status"] {
		case "passing", "warning", "critical", "unknown": // Spring's CheckStatus enum
		default:
			t.Errorf("check status %v is not one Spring can parse", c["Status"])
		}
		if tags, ok := c["ServiceTags"].([]any); !ok || tags == nil {
			t.Errorf("ServiceTags = %#v, want a list", c["ServiceTags"])
		}
	}

	// passing=true waits for the server to poll /actuator/health.
	poll.Until(t, "HTTP check polled by the server", func() bool {
		_, _, b := env.do("GET", "/v1/health/service/orders?passing=true", nil, springHeaders)
		return len(decodeJSON[[]any](t, b)) == 1
	}, poll.Within(5*time.Second))
	_, _, body = env.do("GET", "/v1/health/service/billing?passing=true&tag=blue", nil, springHeaders)
	if got := decodeJSON[[]any](t, body); len(got) != 1 {
		t.Fatalf("ttl service after pass, tag blue: %s", body)
	}
	_, _, body = env.do("GET", "/v1/health/service/billing?passing=true&tag=green", nil, springHeaders)
	if got := decodeJSON[[]any](t, body); len(got) != 0 {
		t.Fatalf("tag green matched: %s", body)
	}

	// getServices and ConsulCatalogWatch (wait=2s&index=N).
	status, hdr, body = env.do("GET", "/v1/catalog/services", nil, springHeaders)
	services := decodeJSON[map[string][]string](t, body)
	if status != 200 || services["orders"] == nil || services["billing"] == nil {
		t.Fatalf("catalog services: %d %s", status, body)
	}
	idx := hdr.Get("X-Consul-Index")
	start := time.Now()
	_, hdr, _ = env.do("GET", "/v1/catalog/services?wait=1s&index="+idx, nil, springHeaders)
	if took := time.Since(start); took < 900*time.Millisecond || hdr.Get("X-Consul-Index") != idx {
		t.Fatalf("catalog watch without change returned after %v with index %s (was %s)", took, hdr.Get("X-Consul-Index"), idx)
	}

	// Health indicator and probe: a JSON string.
	_, _, body = env.do("GET", "/v1/status/leader", nil, springHeaders)
	if string(body) != `"127.0.0.1:8300"` {
		t.Fatalf("leader = %s", body)
	}
	// getAgentServices.
	_, _, body = env.do("GET", "/v1/agent/services", nil, springHeaders)
	agentSvcs := decodeJSON[map[string]map[string]any](t, body)
	if agentSvcs["orders-8080"]["Service"] != "orders" || agentSvcs["billing-9090"]["Port"] != float64(9090) {
		t.Fatalf("agent services = %s", body)
	}
	// Maintenance (setStatus OUT_OF_SERVICE) takes the instance out of passing results.
	if status, _, msg := env.do("PUT", "/v1/agent/service/maintenance/orders-8080?enable=true&reason=deploy", nil, springHeaders); status != 200 {
		t.Fatalf("maintenance: %d %s", status, msg)
	}
	_, _, body = env.do("GET", "/v1/health/service/orders?passing=true", nil, springHeaders)
	if got := decodeJSON[[]any](t, body); len(got) != 0 {
		t.Fatalf("in maintenance but passing: %s", body)
	}
	if insts := env.instances("orders"); len(insts) != 1 || insts[0].Status != "OUT_OF_SERVICE" {
		t.Fatalf("maintenance in the registry = %+v", insts)
	}
	env.do("PUT", "/v1/agent/service/maintenance/orders-8080?enable=false", nil, springHeaders)
	if insts := env.instances("orders"); insts[0].Status != "UP" {
		t.Fatalf("after maintenance off: %s", insts[0].Status)
	}
	// Shutdown: deregister.
	if status, _, _ := env.do("PUT", "/v1/agent/service/deregister/orders-8080", nil, springHeaders); status != 200 {
		t.Fatalf("deregister: %d", status)
	}
	if len(env.instances("orders")) != 0 {
		t.Fatal("still registered after deregister")
	}
}

func TestSpringConfigWatch(t *testing.T) {
	env := newEnv(t)
	put := func(key, value string) {
		t.Helper()
		status, _, body := env.do("PUT", "/v1/kv/"+key, strings.NewReader(value), map[string]string{"Content-Type": "text/plain"})
		if status != 200 || string(body) != "true" {
			t.Fatalf("put %s: %d %s", key, status, body)
		}
	}
	put("config/application/greeting", "hello")
	put("config/orders,dev/timeout", "5s")
	put("config/orders/data", "a: 1")

	// ConsulPropertySource: the initial read of each context.
	index := func(ctx string) string {
		t.Helper()
		status, hdr, body := env.do("GET", "/v1/kv/"+ctx+"?recurse", nil, nil)
		if status != 200 {
			t.Fatalf("read %s: %d", ctx, status)
		}
		values := decodeJSON[[]map[string]any](t, body)
		for _, v := range values {
			raw, _ := v["Value"].(string)
			if _, err := base64.StdEncoding.DecodeString(raw); err != nil || v["Key"] == nil {
				t.Fatalf("GetValue = %v", v)
			}
		}
		return hdr.Get("X-Consul-Index")
	}
	appIdx := index("config/application/")
	ordersIdx := index("config/orders/")

	// ConfigWatch: a blocking read per context with wait=Ns&index=N.
	type answer struct {
		status int
		index  string
		took   time.Duration
	}
	watch := func(ctx, idx string, wait string) <-chan answer {
		ch := make(chan answer, 1)
		go func() {
			start := time.Now()
			status, hdr, _ := env.do("GET", "/v1/kv/"+ctx+"?recurse&wait="+wait+"&index="+idx, nil, nil)
			ch <- answer{status, hdr.Get("X-Consul-Index"), time.Since(start)}
		}()
		return ch
	}
	appWatch := watch("config/application/", appIdx, "3s")
	ordersWatch := watch("config/orders/", ordersIdx, "30s")
	time.Sleep(100 * time.Millisecond)
	put("config/orders/data", "a: 2")
	select {
	case a := <-ordersWatch:
		n, _ := strconv.ParseUint(a.index, 10, 64)
		old, _ := strconv.ParseUint(ordersIdx, 10, 64)
		if a.status != 200 || n <= old {
			t.Fatalf("orders watch woke with %d index %s (was %s)", a.status, a.index, ordersIdx)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("config watch did not wake on change")
	}
	// The other context's index must not move: Spring refreshes on any index change.
	a := <-appWatch
	if a.index != appIdx || a.took < 2900*time.Millisecond {
		t.Fatalf("unrelated context answered after %v with index %s (was %s)", a.took, a.index, appIdx)
	}
	// A context with no keys answers 404 with an index.
	status, hdr, _ := env.do("GET", "/v1/kv/config/billing/?recurse", nil, nil)
	if status != 404 || hdr.Get("X-Consul-Index") == "" || hdr.Get("X-Consul-Index") == "0" {
		t.Fatalf("empty context: %d index %q", status, hdr.Get("X-Consul-Index"))
	}
}
