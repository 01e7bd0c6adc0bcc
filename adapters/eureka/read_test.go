package eureka

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNegotiation: JSON iff Accept mentions json, XML otherwise (also with
// no Accept at all); gzip only for the full and delta documents when asked.
func TestNegotiation(t *testing.T) {
	env := newEnv(t)
	if code, _ := (springClient{env: env, base: "/eureka"}).register(springBody(t)); code != http.StatusNoContent {
		t.Fatal(code)
	}
	for _, tc := range []struct {
		path, accept, encoding string
		wantType               string
		wantGzip               bool
	}{
		{"/eureka/apps", "", "", "application/xml", false},
		{"/eureka/v2/apps", "application/xml", "", "application/xml", false},
		{"/eureka/v1/apps/", "application/json", "", "application/json", false},
		{"/eureka/apps/", "text/html, application/json;q=0.9", "gzip", "application/json", true},
		{"/eureka/apps/delta", "", "gzip", "application/xml", true},
		{"/eureka/apps/ORDERS", "application/json", "gzip", "application/json", false},
		{"/eureka/vips/orders", "", "gzip", "application/xml", false},
		{"/eureka/svips/orders", "application/json", "", "application/json", false},
		{"/eureka/instances/" + springID, "", "", "application/xml", false},
	} {
		code, h, b := env.do(http.MethodGet, tc.path, "", "Accept", tc.accept, "Accept-Encoding", tc.encoding)
		if code != http.StatusOK || h.Get("Content-Type") != tc.wantType {
			t.Errorf("GET %s (Accept %q): %d %q, want 200 %q", tc.path, tc.accept, code, h.Get("Content-Type"), tc.wantType)
			continue
		}
		if gz := h.Get("Content-Encoding") == "gzip"; gz != tc.wantGzip {
			t.Errorf("GET %s: gzip %v, want %v", tc.path, gz, tc.wantGzip)
			continue
		}
		if tc.wantGzip {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("GET %s: %v", tc.path, err)
			}
		}
		if !bytes.Contains(b, []byte(springID)) {
			t.Errorf("GET %s: body lacks the instance: %.300s", tc.path, b)
		}
	}
}

// TestDeltaRetention: a change leaves the delta after the retention
// window; versions__delta moves on every rebuild.
func TestDeltaRetention(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	env := newEnv(t, withOptions(func(o *Options) { o.Now = clock; o.DeltaRetention = time.Minute }))
	c := springClient{env: env, base: "/eureka"}
	if code, _ := c.register(springBody(t)); code != http.StatusNoContent {
		t.Fatal(code)
	}
	first := c.applications(t, "/apps/delta")
	if len(first.Apps) != 1 || first.Apps[0].Instances[0].ActionType != "ADDED" {
		t.Fatalf("delta after register: %+v", first)
	}
	if again := c.applications(t, "/apps/delta"); again.Version != first.Version {
		t.Errorf("unchanged delta rebuilt: version %d -> %d", first.Version, again.Version)
	}
	advance(61 * time.Second)
	later := c.applications(t, "/apps/delta")
	if len(later.Apps) != 0 || later.Hashcode != "UP_1_" {
		t.Errorf("delta after the retention window: %+v", later)
	}
	if later.Version <= first.Version {
		t.Errorf("versions__delta did not move: %d -> %d", first.Version, later.Version)
	}
}

// TestVIPLists: vipAddress may be a comma-separated list; lookups match
// one entry exactly.
func TestVIPLists(t *testing.T) {
	env := newEnv(t)
	body := strings.Replace(springBody(t), `"vipAddress":"orders"`, `"vipAddress":"orders,orders-v2"`, 1)
	if code, _ := (springClient{env: env, base: "/eureka"}).register(body); code != http.StatusNoContent {
		t.Fatal(code)
	}
	c := springClient{env: env, base: "/eureka"}
	for vip, want := range map[string]int{"orders": 1, "orders-v2": 1, "orders,orders-v2": 0, "order": 0} {
		got := c.applications(t, "/vips/"+vip)
		n := 0
		for _, a := range got.Apps {
			n += len(a.Instances)
		}
		if n != want || got.Version != -1 {
			t.Errorf("VIP %q: %d instances (version %d), want %d", vip, n, got.Version, want)
		}
	}
	if st := mustGet(t, env, "orders", springID); st.Service != "orders" {
		t.Errorf("service name from a VIP list: %q", st.Service)
	}
}

// TestConcurrentClients runs registrations, heartbeats and fetches at once
// (for the race detector) and checks the end state.
func TestConcurrentClients(t *testing.T) {
	env := newEnv(t)
	c := springClient{env: env, base: "/eureka"}
	body := springBody(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				id := "w" + itoa(w) + "-" + itoa(i)
				if code, _ := c.register(strings.ReplaceAll(body, springID, id)); code != http.StatusNoContent {
					t.Errorf("register %s: %d", id, code)
					return
				}
				if code, _ := c.heartbeat(id, "UP", springDirty); code != http.StatusOK {
					t.Errorf("heartbeat %s: %d", id, code)
				}
				c.applications(t, "/apps/delta")
				if i%3 == 0 {
					c.applications(t, "/apps/")
				}
			}
		}()
	}
	wg.Wait()
	full := c.applications(t, "/apps/")
	if full.Hashcode != "UP_80_" || len(full.Apps[0].Instances) != 80 {
		t.Errorf("after concurrent registrations: %s, %d instances", full.Hashcode, len(full.Apps[0].Instances))
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"defaults", Options{}, ""},
		{"bad namespace", Options{Namespace: "a/b"}, "eureka.namespace"},
		{"password without user", Options{Password: "x"}, "eureka.username"},
		{"negative retention", Options{DeltaRetention: -1}, "eureka.deltaRetention"},
		{"negative body limit", Options{MaxBodyBytes: -1}, "eureka.maxBodyBytes"},
	} {
		err := tc.opts.Validate()
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New without a store must fail")
	}
}
