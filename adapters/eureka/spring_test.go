package eureka

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// The tests in this file send what Spring Cloud Netflix's
// RestClientEurekaHttpClient sends (same methods, paths, query parameters
// and headers) and read the answers with the strict Spring reader in
// springjson_test.go.

const springID = "10.1.2.3:orders:8080"

// springClient speaks like RestClientEurekaHttpClient against base.
type springClient struct {
	env  *testEnv
	base string // e.g. "/eureka"
}

func (c springClient) register(body string) (int, []byte) {
	code, _, b := c.env.do(http.MethodPost, c.base+"/apps/ORDERS", body,
		"Accept-Encoding", "gzip", "Content-Type", "application/json")
	return code, b
}

func (c springClient) heartbeat(id, status string, dirty int64) (int, []byte) {
	code, _, b := c.env.do(http.MethodPut,
		c.base+"/apps/ORDERS/"+id+"?status="+status+"&lastDirtyTimestamp="+strconv.FormatInt(dirty, 10), "",
		"Content-Type", "application/json", "Accept", "application/json")
	return code, b
}

func (c springClient) statusUpdate(id, status string, dirty int64) int {
	code, _, _ := c.env.do(http.MethodPut,
		c.base+"/apps/ORDERS/"+id+"/status?value="+status+"&lastDirtyTimestamp="+strconv.FormatInt(dirty, 10), "",
		"Content-Type", "application/json")
	return code
}

func (c springClient) deleteStatusOverride(id string, dirty int64) int {
	code, _, _ := c.env.do(http.MethodDelete,
		c.base+"/apps/ORDERS/"+id+"/status?lastDirtyTimestamp="+strconv.FormatInt(dirty, 10), "",
		"Content-Type", "application/json")
	return code
}

func (c springClient) cancel(id string) int {
	code, _, _ := c.env.do(http.MethodDelete, c.base+"/apps/ORDERS/"+id, "")
	return code
}

// applications is getApplicationsInternal: full fetch ("/apps/"), delta,
// or VIP. Apache HttpClient asks for gzip and inflates the answer.
func (c springClient) applications(t *testing.T, path string) *springApps {
	t.Helper()
	code, h, b := c.env.do(http.MethodGet, c.base+path, "",
		"Content-Type", "application/json", "Accept", "application/json", "Accept-Encoding", "gzip, x-gzip, deflate")
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, code)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if h.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gunzip: %v", err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatalf("gunzip: %v", err)
		}
	}
	apps, err := parseSpringApplications(b)
	if err != nil {
		t.Fatalf("Spring cannot parse GET %s: %v\n%s", path, err, b)
	}
	return apps
}

func springBody(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/spring_register.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const springDirty = 1630906182808 // lastDirtyTimestamp in the fixture

func TestSpringLifecycle(t *testing.T) {
	env := newEnv(t)
	c := springClient{env: env, base: "/eureka"}

	if code, b := c.register(springBody(t)); code != http.StatusNoContent || len(b) != 0 {
		t.Fatalf("register: status %d body %q, want 204 and no body", code, b)
	}
	st := mustGet(t, env, "orders", springID)
	if st.Service != "orders" || st.Host != "10.1.2.3" || st.Port != 8080 || st.SecureEnabled ||
		st.Metadata["version"] != "v1" || st.Labels["version"] != "v1" || st.Origin != registry.OriginEureka {
		t.Errorf("stored instance: %+v", st)
	}

	apps := c.applications(t, "/apps/")
	if apps.Version != 1 || apps.Hashcode != "UP_1_" || len(apps.Apps) != 1 || apps.Apps[0].Name != "ORDERS" {
		t.Fatalf("full fetch: %+v", apps)
	}
	in := apps.Apps[0].Instances[0]
	if in.InstanceID != springID || in.App != "ORDERS" || in.VIPAddress != "orders" || in.Status != "UP" ||
		in.OverriddenStatus != "UNKNOWN" || in.Port != 8080 || !in.PortEnabled || in.SecurePort != 443 ||
		in.SecurePortEnabled || in.DataCenter != "MyOwn" || in.Metadata["management.port"] != "8080" ||
		in.Lease["durationInSecs"] != 90 || in.LastDirtyTimestamp != springDirty ||
		in.HealthCheckURL != "http://10.1.2.3:8080/actuator/health" {
		t.Errorf("instance as Spring reads it: %+v", in)
	}

	// Heartbeats: 200 with no body; 404 with no body when Spring must register again.
	for _, tc := range []struct {
		name  string
		id    string
		dirty int64
		want  int
	}{
		{"same dirty timestamp", springID, springDirty, http.StatusOK},
		{"older client timestamp", springID, springDirty - 1000, http.StatusOK},
		{"client has newer data", springID, springDirty + 1, http.StatusNotFound},
		{"unknown instance", "10.9.9.9:orders:8080", springDirty, http.StatusNotFound},
	} {
		code, body := c.heartbeat(tc.id, "UP", tc.dirty)
		if code != tc.want || len(body) != 0 {
			t.Errorf("heartbeat (%s): %d %q, want %d and no body", tc.name, code, body, tc.want)
		}
	}

	for _, path := range []string{"/apps/ORDERS/" + springID, "/instances/" + springID} {
		code, _, b := env.do(http.MethodGet, c.base+path, "", "Accept", "application/json")
		raw, err := unwrapRoot(b, "instance")
		if code != http.StatusOK || err != nil {
			t.Fatalf("GET %s: %d %v", path, code, err)
		}
		if got, err := parseSpringInstance(raw); err != nil || got.InstanceID != springID {
			t.Errorf("GET %s: Spring reads %+v, %v", path, got, err)
		}
	}
	code, _, b := env.do(http.MethodGet, c.base+"/apps/ORDERS", "", "Accept", "application/json")
	raw, err := unwrapRoot(b, "application")
	if code != http.StatusOK || err != nil {
		t.Fatalf("GET /apps/ORDERS: %d %v", code, err)
	}
	if app, err := parseSpringApplication(raw); err != nil || len(app.Instances) != 1 {
		t.Errorf("GET /apps/ORDERS as Spring reads it: %+v %v", app, err)
	}
	for _, path := range []string{"/apps/NOPE", "/apps/ORDERS/nope", "/instances/nope"} {
		if code, _, b := env.do(http.MethodGet, c.base+path, "", "Accept", "application/json"); code != http.StatusNotFound || len(b) != 0 {
			t.Errorf("GET %s: %d %q, want 404 with no body", path, code, b)
		}
	}
	vip := c.applications(t, "/vips/orders")
	if len(vip.Apps) != 1 || len(vip.Apps[0].Instances) != 1 || vip.Hashcode != "UP_1_" {
		t.Errorf("VIP fetch: %+v", vip)
	}
	if none := c.applications(t, "/vips/ORDERS"); len(none.Apps) != 0 || none.Hashcode != "" {
		t.Errorf("VIP lookup must be case-sensitive: %+v", none)
	}

	// actuator/service-registry OUT_OF_SERVICE, then CANCEL_OVERRIDE.
	if code := c.statusUpdate(springID, "OUT_OF_SERVICE", springDirty); code != http.StatusOK {
		t.Fatalf("status update: %d", code)
	}
	if got := c.applications(t, "/apps/").Apps[0].Instances[0]; got.Status != "OUT_OF_SERVICE" || got.OverriddenStatus != "OUT_OF_SERVICE" {
		t.Errorf("after override: status %s overridden %s", got.Status, got.OverriddenStatus)
	}
	if code, _ := c.heartbeat(springID, "UP", springDirty); code != http.StatusOK {
		t.Errorf("heartbeat under an override: %d, want 200", code)
	}
	if code := c.deleteStatusOverride(springID, springDirty); code != http.StatusOK {
		t.Fatalf("delete override: %d", code)
	}
	if got := c.applications(t, "/apps/"); got.Hashcode != "UNKNOWN_1_" {
		t.Errorf("after deleting the override the server shows UNKNOWN until re-registration; hash %q", got.Hashcode)
	}
	// The next heartbeat gets 404, and Spring registers again with its real status.
	if code, _ := c.heartbeat(springID, "UP", springDirty); code != http.StatusNotFound {
		t.Fatalf("heartbeat after deleting the override: %d, want 404", code)
	}
	if code, _ := c.register(springBody(t)); code != http.StatusNoContent {
		t.Fatalf("re-register: %d", code)
	}
	if code, _ := c.heartbeat(springID, "UP", springDirty); code != http.StatusOK {
		t.Errorf("heartbeat after re-register: %d", code)
	}
	if got := c.applications(t, "/apps/"); got.Hashcode != "UP_1_" {
		t.Errorf("after re-register: hash %q, want UP_1_", got.Hashcode)
	}

	if code := c.cancel(springID); code != http.StatusOK {
		t.Errorf("cancel: %d", code)
	}
	if code := c.cancel(springID); code != http.StatusNotFound {
		t.Errorf("second cancel: %d, want 404", code)
	}
	if got := c.applications(t, "/apps/"); len(got.Apps) != 0 || got.Hashcode != "" {
		t.Errorf("empty registry: %+v", got)
	}
}

// TestSpringDeltaReconciles runs the Java client's delta algorithm
// (DiscoveryClient.updateDelta then the hash comparison) over a series of
// changes and checks the client never needs a reconcile full fetch.
func TestSpringDeltaReconciles(t *testing.T) {
	env := newEnv(t)
	c := springClient{env: env, base: "/eureka"}
	body := springBody(t)
	withID := func(id, status string) string {
		b := strings.ReplaceAll(body, springID, id)
		return strings.Replace(b, `"status":"UP"`, `"status":"`+status+`"`, 1)
	}
	for _, id := range []string{"a:orders:1", "b:orders:2"} {
		if code, _ := c.register(withID(id, "UP")); code != http.StatusNoContent {
			t.Fatalf("register %s: %d", id, code)
		}
	}
	local := newLocalRegistry(c.applications(t, "/apps/"))

	steps := []struct {
		name   string
		change func()
	}{
		{"register a third instance", func() { c.register(withID("c:orders:3", "STARTING")) }},
		{"one goes out of service", func() { c.statusUpdate("a:orders:1", "OUT_OF_SERVICE", springDirty) }},
		{"one is cancelled", func() { c.cancel("b:orders:2") }},
		{"cancelled then registered again", func() {
			c.cancel("c:orders:3")
			c.register(withID("c:orders:3", "UP"))
		}},
		{"another app comes and goes", func() {
			other := strings.NewReplacer(`"ORDERS"`, `"BILLING"`, `"orders"`, `"billing"`).Replace(withID("x:billing:1", "UP"))
			env.do(http.MethodPost, "/eureka/apps/BILLING", other, "Content-Type", "application/json")
			env.do(http.MethodDelete, "/eureka/apps/BILLING/x:billing:1", "")
		}},
		{"nothing changes", func() {}},
	}
	for _, step := range steps {
		step.change()
		delta := c.applications(t, "/apps/delta")
		local.apply(delta)
		if got := local.hash(); got != delta.Hashcode {
			t.Fatalf("after %q: client hash %q != delta hash %q (the client would do a full fetch)", step.name, got, delta.Hashcode)
		}
		full := c.applications(t, "/apps/")
		if full.Hashcode != delta.Hashcode {
			t.Fatalf("after %q: full hash %q, delta hash %q", step.name, full.Hashcode, delta.Hashcode)
		}
		if !slices.Equal(local.ids(), newLocalRegistry(full).ids()) {
			t.Fatalf("after %q: client has %v, server %v", step.name, local.ids(), newLocalRegistry(full).ids())
		}
	}
}

// localRegistry is the Java client's local copy: app -> id -> status.
type localRegistry map[string]map[string]string

func newLocalRegistry(apps *springApps) localRegistry {
	l := localRegistry{}
	for _, a := range apps.Apps {
		for _, in := range a.Instances {
			l.put(a.Name, in)
		}
	}
	return l
}

func (l localRegistry) put(app string, in springInstance) {
	if l[app] == nil {
		l[app] = map[string]string{}
	}
	l[app][in.InstanceID] = in.Status
}

// apply is DiscoveryClient.updateDelta.
func (l localRegistry) apply(delta *springApps) {
	for _, a := range delta.Apps {
		for _, in := range a.Instances {
			switch in.ActionType {
			case "ADDED", "MODIFIED":
				l.put(a.Name, in)
			case "DELETED":
				delete(l[a.Name], in.InstanceID)
				if len(l[a.Name]) == 0 {
					delete(l, a.Name)
				}
			}
		}
	}
}

// hash is Applications.getReconcileHashCode over every instance.
func (l localRegistry) hash() string {
	counts := map[registry.Status]int{}
	for _, ins := range l {
		for _, st := range ins {
			counts[registry.Status(st)]++
		}
	}
	return reconcileHash(counts)
}

func (l localRegistry) ids() []string {
	var out []string
	for app, ins := range l {
		for id, st := range ins {
			out = append(out, app+"/"+id+"/"+st)
		}
	}
	slices.Sort(out)
	return out
}

// TestSpringBasicAuth: Spring puts credentials from the service URL in a
// Basic header; without them the server answers 401 and changes nothing.
func TestSpringBasicAuth(t *testing.T) {
	env := newEnv(t, withOptions(func(o *Options) { o.Username, o.Password = "eureka", "s3cret" }))
	body := springBody(t)
	for _, tc := range []struct {
		name     string
		user     string
		pass     string
		wantCode int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "eureka", "nope", http.StatusUnauthorized},
		{"right credentials", "eureka", "s3cret", http.StatusNoContent},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.url+"/eureka/apps/ORDERS", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.wantCode {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.wantCode)
		}
		if tc.wantCode == http.StatusUnauthorized {
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: no WWW-Authenticate header", tc.name)
			}
			if n := len(env.mustList()); n != 0 {
				t.Errorf("%s: unauthorised request registered %d instances", tc.name, n)
			}
		}
	}
	if n := len(env.mustList()); n != 1 {
		t.Errorf("want 1 instance after the authorised register, got %d", n)
	}
}
