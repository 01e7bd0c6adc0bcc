package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

type fixture struct {
	store  *embedded.Store
	server *httptest.Server
	client *Client
}

func newFixture(t testing.TB, opts ServerOptions) *fixture {
	t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: t.TempDir(), History: 64, Expiry: embedded.ExpiryOptions{Disabled: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(NewServer(st, opts).Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	c, err := NewClient(srv.URL, WithToken(opts.Token), WithRetries(1, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: st, server: srv, client: c}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func orders(id string) *registry.Instance {
	return &registry.Instance{ID: id, Service: "orders", Host: "127.0.0.1", Port: 8080,
		Metadata: map[string]string{"version": "v1"}, Ephemeral: true,
		Lease: registry.Lease{RenewalInterval: 30 * time.Second, Duration: 90 * time.Second}}
}

func TestInstanceLifecycle(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	got, err := f.client.Register(ctx, orders("o-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin != registry.OriginControl || got.Labels["version"] != "v1" || got.Lease.Duration != 90*time.Second {
		t.Fatalf("registered %+v", got)
	}
	list, rev, err := f.client.Instances(ctx, registry.Filter{Service: "ORDERS", Labels: map[string]string{"version": "v1"}})
	if err != nil || len(list) != 1 || rev < got.Revision {
		t.Fatalf("list = %v, %d, %v", list, rev, err)
	}
	if err := f.client.Renew(ctx, got.Key()); err != nil {
		t.Fatal(err)
	}
	down, err := f.client.SetStatus(ctx, got.Key(), registry.StatusOutOfService)
	if err != nil || down.EffectiveStatus() != registry.StatusOutOfService {
		t.Fatalf("set status = %+v, %v", down, err)
	}
	if healthy, _, _ := f.client.Instances(ctx, registry.Filter{Service: "orders", HealthyOnly: true}); len(healthy) != 0 {
		t.Fatalf("out-of-service instance listed as healthy")
	}
	if up, err := f.client.ClearStatus(ctx, got.Key()); err != nil || up.EffectiveStatus() != registry.StatusUp {
		t.Fatalf("clear status = %+v, %v", up, err)
	}
	svcs, _, err := f.client.Services(ctx, "")
	if err != nil || len(svcs) != 1 || svcs[0].Instances != 1 {
		t.Fatalf("services = %+v, %v", svcs, err)
	}
	if err := f.client.Deregister(ctx, got.Key()); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Renew(ctx, got.Key()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("renew after deregister: %v, want ErrNotFound", err)
	}
	if _, err := f.client.Instance(ctx, got.Key()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("get after deregister: %v", err)
	}
}

// raw sends a request and returns status, content type and decoded error.
func raw(t *testing.T, method, url, body string, hdr map[string]string) (int, string, ErrorBody) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb ErrorBody
	_ = json.Unmarshal(data, &eb)
	return resp.StatusCode, resp.Header.Get("Content-Type"), eb
}

func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	before := f.store.Revision()
	big := `{"id":"x","service":"orders","host":"h","metadata":{"k":"` + strings.Repeat("a", 2<<20) + `"}}`
	cases := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"malformed json", "POST", "/api/v1/instances", `{"id":`, 400, CodeInvalid, "body"},
		{"unknown field", "POST", "/api/v1/instances", `{"id":"x","service":"s","host":"h","colour":"red"}`, 400, CodeInvalid, "body"},
		{"missing host", "POST", "/api/v1/instances", `{"id":"x","service":"s"}`, 400, CodeInvalid, "host"},
		{"bad name", "POST", "/api/v1/instances", `{"id":"a/b","service":"s","host":"h"}`, 400, CodeInvalid, "id"},
		{"empty body", "POST", "/api/v1/instances", ``, 400, CodeInvalid, "body"},
		{"too large", "POST", "/api/v1/instances", big, 413, CodeTooLarge, ""},
		{"trailing data", "POST", "/api/v1/instances", `{"id":"x","service":"s","host":"h"} {}`, 400, CodeInvalid, "body"},
		{"unknown kind", "PUT", "/api/v1/resources/Bogus/x", `{"spec":{}}`, 400, CodeInvalid, ""},
		{"invalid spec", "PUT", "/api/v1/resources/CanaryRule/x", `{"spec":{"service":"orders","match":{"headers":[{"name":"x-canary"}]},"selector":{"version":"v2"}}}`, 400, CodeInvalid, "spec.match.headers[0]"},
		{"unknown spec field", "PUT", "/api/v1/resources/TrafficSplit/x", `{"spec":{"service":"orders","subsets":[{"labels":{"v":"1"},"weight":1}],"extra":1}}`, 400, CodeInvalid, "spec"},
		{"policy sets Host", "PUT", "/api/v1/resources/ServicePolicy/x", `{"spec":{"service":"orders","headers":{"host":"evil"}}}`, 400, CodeInvalid, "spec.headers"},
		{"policy sets mesh header", "PUT", "/api/v1/resources/ServicePolicy/x", `{"spec":{"service":"orders","headers":{"X-Mesh-Shadow":"true"}}}`, 400, CodeInvalid, "spec.headers"},
		{"policy header value with newline", "PUT", "/api/v1/resources/ServicePolicy/x", `{"spec":{"service":"orders","headers":{"X-Env":"a\r\nb"}}}`, 400, CodeInvalid, "spec.headers"},
		// No sidecar enforces access rules yet: storing one would only look like protection.
		{"access rule not enforced", "PUT", "/api/v1/resources/AccessRule/x", `{"spec":{"service":"orders","action":"deny","sources":["*"]}}`, 400, CodeInvalid, "spec.kind"},
		{"bad status", "PUT", "/api/v1/instances/public/DEFAULT_GROUP/orders/x/status", `{"status":"SLEEPY"}`, 400, CodeInvalid, "status"},
		{"bad expect", "PUT", "/api/v1/resources/TrafficSplit/x?expect=abc", `{"spec":{}}`, 400, CodeInvalid, "expect"},
		{"unknown path", "GET", "/api/v1/nothing", ``, 404, CodeNotFound, ""},
		{"wrong method", "PATCH", "/api/v1/instances", ``, 405, CodeMethodNotAllowed, ""},
		{"bad filter", "GET", "/api/v1/instances?label=novalue", ``, 400, CodeInvalid, "label"},
		{"bad watch kind", "GET", "/api/v1/watch?index=1&kinds=cats", ``, 400, CodeInvalid, "kinds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, ctype, eb := raw(t, tc.method, f.server.URL+tc.path, tc.body, map[string]string{"Content-Type": "application/json"})
			if status != tc.status || eb.Error.Code != tc.code {
				t.Fatalf("got %d %q (%s), want %d %q", status, eb.Error.Code, eb.Error.Message, tc.status, tc.code)
			}
			if ctype != "application/json" {
				t.Fatalf("content type %q", ctype)
			}
			if tc.field != "" && eb.Error.Field != tc.field {
				t.Fatalf("field %q, want %q (%s)", eb.Error.Field, tc.field, eb.Error.Message)
			}
		})
	}
	if f.store.Revision() != before {
		t.Fatalf("bad input changed the store: revision %d -> %d", before, f.store.Revision())
	}
}

func TestTokenGuardsWrites(t *testing.T) {
	f := newFixture(t, ServerOptions{Token: "s3cret"})
	ctx := testCtx(t)
	before := f.store.Revision()
	for _, hdr := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}} {
		status, ctype, eb := raw(t, "POST", f.server.URL+"/api/v1/instances", `{"id":"x","service":"s","host":"h"}`, hdr)
		if status != 401 || eb.Error.Code != CodeUnauthorized || ctype != "application/json" {
			t.Fatalf("write with %v: %d %+v", hdr, status, eb)
		}
	}
	if f.store.Revision() != before {
		t.Fatal("unauthorized write changed the store")
	}
	// Reads stay open; the client with the token may write.
	if status, _, _ := raw(t, "GET", f.server.URL+"/api/v1/instances", "", nil); status != 200 {
		t.Fatalf("read without token: %d", status)
	}
	if _, err := f.client.Register(ctx, orders("o-1")); err != nil {
		t.Fatalf("write with token: %v", err)
	}
	anon, _ := NewClient(f.server.URL)
	if _, err := anon.Register(ctx, orders("o-2")); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("anonymous client: %v", err)
	}
}

func canary(svc string, prio int) *registry.Resource {
	spec := fmt.Sprintf(`{"service":%q,"priority":%d,"match":{"headers":[{"name":"x-canary","exact":"true"}]},"selector":{"version":"v2"}}`, svc, prio)
	return &registry.Resource{Kind: KindCanaryRule, Spec: json.RawMessage(spec)}
}

func TestResourcesAndCanaryCap(t *testing.T) {
	f := newFixture(t, ServerOptions{MaxCanariesPerService: 5})
	ctx := testCtx(t)
	for i := range 5 {
		r := canary("orders", i+1)
		r.Name = fmt.Sprintf("c%d", i)
		if _, err := f.client.Apply(ctx, r); err != nil {
			t.Fatalf("canary %d: %v", i, err)
		}
	}
	sixth := canary("Orders", 9)
	sixth.Name = "c5"
	if _, err := f.client.Apply(ctx, sixth); !errors.Is(err, registry.ErrConflict) || !strings.Contains(err.Error(), "maximum") {
		t.Fatalf("sixth canary: %v", err)
	}
	// Replacing an existing one is fine, and another service has its own cap.
	again := canary("orders", 7)
	again.Name = "c0"
	got, err := f.client.Apply(ctx, again)
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	other := canary("payments", 1)
	other.Name = "p0"
	if _, err := f.client.Apply(ctx, other); err != nil {
		t.Fatalf("other service: %v", err)
	}
	// Compare-and-set through the client.
	stale := canary("orders", 3)
	stale.Name, stale.Revision = "c0", got.Revision-1
	if _, err := f.client.Apply(ctx, stale); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale apply: %v", err)
	}
	list, _, err := f.client.Resources(ctx, KindCanaryRule)
	if err != nil || len(list) != 6 {
		t.Fatalf("list = %d, %v", len(list), err)
	}
	spec, err := DecodeResource[*CanaryRule](list[0])
	if err != nil || spec.EffectivePriority() != 7 {
		t.Fatalf("decoded %+v, %v", spec, err)
	}
	if err := f.client.Delete(ctx, KindCanaryRule, "c0"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Resource(ctx, KindCanaryRule, "c0"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}

func TestWatchLongPoll(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	first, err := f.client.WatchOnce(ctx, 0, time.Second, registry.WatchFilter{})
	if err != nil || first.Index < 1 || len(first.Events) != 0 {
		t.Fatalf("index 0: %+v, %v", first, err)
	}
	// Nothing changes: the poll waits its wait out and keeps the index.
	start := time.Now()
	idle, err := f.client.WatchOnce(ctx, first.Index, 300*time.Millisecond, registry.WatchFilter{})
	if err != nil || len(idle.Events) != 0 || idle.Index != first.Index || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("idle poll: %+v, %v after %v", idle, err, time.Since(start))
	}
	// A change answers at once.
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = f.store.Register(context.Background(), orders("o-1")) // the poll below reports whether it arrived
	}()
	res, err := f.client.WatchOnce(ctx, first.Index, 10*time.Second, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}})
	if err != nil || len(res.Events) != 1 || res.Events[0].Instance.ID != "o-1" || res.Index != res.Events[0].Revision {
		t.Fatalf("change poll: %+v, %v", res, err)
	}
	// A filter that matches nothing still advances the index past unrelated changes.
	_, _ = f.store.PutKV(ctx, &registry.KV{Key: "k", Value: []byte("v")}, -1)
	sid := registry.NewInstanceKey("", "", "payments", "").Service()
	skip, err := f.client.WatchOnce(ctx, res.Index, 200*time.Millisecond, registry.WatchFilter{Service: &sid})
	if err != nil || len(skip.Events) != 0 || skip.Index <= res.Index {
		t.Fatalf("filtered poll: %+v, %v", skip, err)
	}
}

func TestWatchCompacted(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	start := f.store.Revision()
	for i := range 100 { // history is 64 events
		if _, err := f.store.Register(ctx, orders(fmt.Sprint("o-", i))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.client.WatchOnce(ctx, start, time.Second, registry.WatchFilter{})
	if !errors.Is(err, registry.ErrCompacted) {
		t.Fatalf("watch from compacted revision: %v", err)
	}
}

// recorder is a SyncHandler that keeps the instances it was told about.
type recorder struct {
	mu        sync.Mutex
	snapshots int
	instances map[string]*registry.Instance
	resources map[string]bool
}

func (r *recorder) Snapshot(rev int64, insts []*registry.Instance, res []*registry.Resource) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snapshots++
	r.instances = map[string]*registry.Instance{}
	r.resources = map[string]bool{}
	for _, i := range insts {
		r.instances[i.ID] = i
	}
	for _, x := range res {
		r.resources[x.Name] = true
	}
}

func (r *recorder) Changes(rev int64, events []registry.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		switch {
		case e.Kind == registry.KindInstance && e.Type == registry.EventPut:
			r.instances[e.Instance.ID] = e.Instance
		case e.Kind == registry.KindInstance:
			delete(r.instances, e.Instance.ID)
		case e.Kind == registry.KindResource && e.Type == registry.EventPut:
			r.resources[e.Resource.Name] = true
		case e.Kind == registry.KindResource:
			delete(r.resources, e.Resource.Name)
		}
	}
}

func (r *recorder) state() (int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snapshots, len(r.instances), len(r.resources)
}

func TestSyncFollowsChanges(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	ctx := testCtx(t)
	if _, err := f.store.Register(ctx, orders("before")); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	syncCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.client.Sync(syncCtx, SyncOptions{Wait: time.Second}, rec) }()
	poll.Until(t, "first snapshot", func() bool { s, n, _ := rec.state(); return s == 1 && n == 1 })
	if _, err := f.store.Register(ctx, orders("after")); err != nil {
		t.Fatal(err)
	}
	c := canary("orders", 1)
	c.Name = "c"
	if _, err := f.client.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Deregister(ctx, registry.NewInstanceKey("", "", "orders", "before")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "changes", func() bool { _, n, r := rec.state(); return n == 1 && r == 1 })
	rec.mu.Lock()
	_, ok := rec.instances["after"]
	rec.mu.Unlock()
	if !ok {
		t.Fatal("sync lost the new instance")
	}
	stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("sync returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sync did not stop")
	}
}

// TestRegisterRefusesWhatViewsCannotCarry: the control API used to store
// hosts, names and values some view cannot carry (only the host's length
// was checked); each now gets 400 naming the field and changes nothing.
func TestRegisterRefusesWhatViewsCannotCarry(t *testing.T) {
	f := newFixture(t, ServerOptions{})
	before := f.store.Revision()
	for _, tc := range []struct {
		name, body, field string
	}{
		{"host with NUL", `{"id":"x","service":"orders","host":"a\u0000b"}`, "host"},
		{"host with CRLF", `{"id":"x","service":"orders","host":"h\r\nX-Injected: 1"}`, "host"},
		{"host with U+0001", `{"id":"x","service":"orders","host":"10.0.0.1\u0001"}`, "host"},
		{"id .", `{"id":".","service":"orders","host":"h"}`, "id"},
		{"id ..", `{"id":"..","service":"orders","host":"h"}`, "id"},
		{"service with U+FFFE", `{"id":"x","service":"orders\ufffe","host":"h"}`, "service"},
		{"service with the Nacos group separator", `{"id":"x","service":"grp@@svc","host":"h"}`, "service"},
		{"metadata value with U+0001", `{"id":"x","service":"orders","host":"h","metadata":{"version":"v\u0001"}}`, "metadata.version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, eb := raw(t, "POST", f.server.URL+"/api/v1/instances", tc.body, map[string]string{"Content-Type": "application/json"})
			if status != http.StatusBadRequest || eb.Error.Code != CodeInvalid || eb.Error.Field != tc.field {
				t.Fatalf("got %d %q field %q (%s), want 400 invalid naming %q", status, eb.Error.Code, eb.Error.Field, eb.Error.Message, tc.field)
			}
		})
	}
	if f.store.Revision() != before {
		t.Fatalf("refused registrations changed the store: revision %d -> %d", before, f.store.Revision())
	}
}
