package consul

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus/testutil"

	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

var (
	put            = connectortest.Put
	closeNow       = connectortest.Close
	closeOnCleanup = connectortest.CloseOnCleanup
)

// springHealth asks /v1/health/service/{name} as Spring Cloud Consul does
// by default (passing=false sent explicitly) and returns the IDs it lists
// with their aggregated check status.
func springHealth(t *testing.T, s *stand, name string) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/v1/health/service/" + name + "?passing=false")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("health of %s: %d %s", name, resp.StatusCode, b)
	}
	var entries []*api.ServiceEntry
	if err := decodeJSON(resp.Body, &entries); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Service.ID] = e.Checks.AggregatedStatus()
	}
	return out
}

// TestDownIsNeverSelectable puts copies of instances that must not be
// selected (issue 19, rule 9) and asks Consul as its consumers do: with
// ?passing (consul/api, Prometheus) none is listed; with passing=false
// (Spring Cloud Consul's default) none is listed as passing: absent with
// downAs absent, in maintenance with downAs maintenance. Back UP, each is
// selectable again.
func TestDownIsNeverSelectable(t *testing.T) {
	downs := []struct {
		name string
		set  func(*registry.Instance)
	}{
		{"down", func(i *registry.Instance) { i.Status = registry.StatusDown }},
		{"out-of-service", func(i *registry.Instance) { i.OverriddenStatus = registry.StatusOutOfService }},
		{"starting", func(i *registry.Instance) { i.Status = registry.StatusStarting }},
		{"critical", func(i *registry.Instance) { i.Health = registry.HealthCritical }},
		{"disabled", func(i *registry.Instance) { i.Disabled = true }},
	}
	for _, mode := range []string{DownAbsent, DownMaintenance} {
		t.Run(mode, func(t *testing.T) {
			s := startStand(t, consulfe.Options{})
			c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"}, func(c *Config) { c.DownAs = mode })
			closeOnCleanup(t, c, true)
			var copies []*registry.Instance
			for n, d := range downs {
				cp := connectortest.Copy(connectortest.App("pay", "pay-"+d.name, 9000+n), "legacy", "syncer-a")
				put(t, c, cp) // first UP: the copy is there
				d.set(cp)
				put(t, c, cp)
				copies = append(copies, cp)
			}
			if got := s.health(t, "pay", true); len(got) != 0 {
				t.Errorf("?passing lists %d copies of instances that are not UP", len(got))
			}
			listed := springHealth(t, s, "pay")
			for _, cp := range copies {
				status, ok := listed[cp.ID]
				switch {
				case mode == DownAbsent && ok:
					t.Errorf("%s: listed with passing=false (%s); want it absent", cp.ID, status)
				case mode == DownMaintenance && (!ok || status == api.HealthPassing):
					t.Errorf("%s: passing=false lists it %v with status %q; want it listed, not passing", cp.ID, ok, status)
				}
			}
			owned, err := c.Owned(context.Background())
			if err != nil || len(owned) != len(copies) {
				t.Fatalf("owned: %d copies, %v; want the %d copies, withheld ones included", len(owned), err, len(copies))
			}
			for _, cp := range copies {
				cp.Status, cp.OverriddenStatus, cp.Health, cp.Disabled = registry.StatusUp, "", registry.HealthPassing, false
				put(t, c, cp)
			}
			if got := s.health(t, "pay", true); len(got) != len(copies) {
				t.Errorf("?passing lists %d copies back UP, want %d", len(got), len(copies))
			}
		})
	}
}

// TestTTLKeptPassing: a copy's TTL check stays passing for many TTLs.
func TestTTLKeptPassing(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	put(t, c, connectortest.Copy(connectortest.App("stock", "stock-1", 9100), "legacy", "syncer-a"))
	time.Sleep(4 * ttl) // the registry's own clock: a TTL not passed lapses
	e := entry(s.health(t, "stock", false), "stock-1")
	if e == nil {
		t.Fatal("the copy is gone")
	}
	for _, ch := range e.Checks {
		if ch.CheckID == "service:stock-1" && ch.Status != api.HealthPassing {
			t.Fatalf("the copy's TTL check is %s (%s) after 4 TTLs", ch.Status, ch.Output)
		}
	}
	if n := testutil.ToFloat64(c.metrics.renewals.WithLabelValues("ok")); n < 3 {
		t.Errorf("%v TTL updates in 4 TTLs, want at least 3", n)
	}
}

// TestUnknownCheckRegistersAgain loses a copy at the agent (deregistered
// behind the sink's back, or the agent restarted without its state) and
// wants it back: the TTL update is refused for an unknown check and the
// sink registers the copy again.
func TestUnknownCheckRegistersAgain(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, s *stand)
	}{
		{"deregistered behind the sink's back", func(t *testing.T, s *stand) { s.deregister(t, "orders-1") }},
		{"agent restarted empty", func(t *testing.T, s *stand) { s.restartEmpty() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStand(t, consulfe.Options{})
			c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
			defer closeNow(t, c, true)
			put(t, c, connectortest.Copy(connectortest.App("orders", "orders-1", 9200), "legacy", "syncer-a"))
			tc.lose(t, s)
			poll.UntilNil(t, "the copy registered again", func() error {
				e := entry(s.health(t, "orders", true), "orders-1")
				if e == nil || e.Service.Meta[registrysync.MetaOwner] != "syncer-a" {
					return fmt.Errorf("not registered and passing: %+v", e)
				}
				if n := testutil.ToFloat64(c.metrics.renewals.WithLabelValues("reregistered")); n < 1 {
					return fmt.Errorf("TTL updates counted as reregistered: %v", n)
				}
				return nil
			}, poll.Within(within))
		})
	}
}

// TestAdoptedCopyIsRenewedNotRevived: a syncer that lists its copies keeps
// their checks passing without registering them again, and one removed
// meanwhile stays removed.
func TestAdoptedCopyIsRenewedNotRevived(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	before := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
	put(t, before, connectortest.Copy(connectortest.App("pay", "pay-1", 9301), "legacy", "syncer-a"))
	put(t, before, connectortest.Copy(connectortest.App("pay", "pay-2", 9302), "legacy", "syncer-a"))
	if err := before.Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	revision := s.stored(t, "pay", "pay-1").Revision
	after := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
	closeOnCleanup(t, after, false)
	if owned, err := after.Owned(context.Background()); err != nil || len(owned) != 2 {
		t.Fatalf("owned: %d copies, %v; want 2", len(owned), err)
	}
	s.deregister(t, "pay-2")
	time.Sleep(ttl + deregisterAfter + time.Second) // the registry's own clock
	if e := entry(s.health(t, "pay", true), "pay-1"); e == nil {
		t.Fatal("the adopted copy is not passing: Owned did not make the sink pass its check")
	}
	if got := s.stored(t, "pay", "pay-1").Revision; got != revision {
		t.Errorf("the adopted copy was written again (revision %d, was %d)", got, revision)
	}
	if entry(s.health(t, "pay", false), "pay-2") != nil {
		t.Error("a removed adopted copy was registered again")
	}
	if n := testutil.ToFloat64(after.metrics.renewals.WithLabelValues("gone")); n < 1 {
		t.Errorf("TTL updates counted as gone: %v, want at least 1", n)
	}
}

// TestPutWritesOnlyChanges: a copy the agent already holds as it would be
// written is not written again; a change is.
func TestPutWritesOnlyChanges(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	cp := connectortest.Copy(connectortest.App("stock", "stock-1", 9400), "legacy", "syncer-a")
	cp.Metadata["management.port"] = "9401"
	cp.Zone, cp.Weight, cp.Tags = "zone-a", 3, []string{"primary"}
	put(t, c, cp)
	first := s.stored(t, "stock", "stock-1").Revision
	put(t, c, cp.Clone())
	if got := s.stored(t, "stock", "stock-1").Revision; got != first {
		t.Errorf("an unchanged put wrote the copy again (revision %d, was %d)", got, first)
	}
	owned, err := c.Owned(context.Background())
	if err != nil || len(owned) != 1 || owned[0].Metadata["management.port"] != "9401" {
		t.Fatalf("owned %v, %v: want the copy as put, metadata keys as given", owned, err)
	}
	cp.Metadata["version"] = "v3"
	put(t, c, cp)
	if got := s.stored(t, "stock", "stock-1"); got.Revision == first || got.Metadata["version"] != "v3" {
		t.Errorf("a changed put was not written: revision %d, metadata %v", got.Revision, got.Metadata)
	}
}

// TestCopyNeverReplacesAnApp: an app's own service under the ID a copy
// would take is neither replaced by Put nor removed by Delete.
func TestCopyNeverReplacesAnApp(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	s.register(t, connectortest.App("billing", "billing-1", 9500))
	c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	cp := connectortest.Copy(connectortest.App("billing", "billing-1", 9999), "legacy", "syncer-a")
	if err := c.Put(context.Background(), cp); err == nil {
		t.Error("a copy replaced an app's service")
	}
	if err := c.Delete(context.Background(), cp); err == nil {
		t.Error("deleting a copy removed an app's service")
	}
	if e := entry(s.health(t, "billing", false), "billing-1"); e == nil || e.Service.Port != 9500 {
		t.Fatalf("the app's service changed: %+v", e)
	}
}

// TestMappingToConsul puts a copy with every field the mapping carries
// and reads it as Consul's consumers do.
func TestMappingToConsul(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	cp := connectortest.Copy(connectortest.App("orders", "orders-9", 9600), "legacy", "syncer-a")
	cp.Port, cp.SecurePort, cp.SecureEnabled = 0, 9643, true
	cp.Metadata["management.port"] = "9601"
	cp.Zone, cp.Weight, cp.Tags = "zone-b", 2.6, []string{"v2"}
	cp.Health = registry.HealthWarning
	put(t, c, cp)
	e := entry(s.health(t, "orders", false), "orders-9")
	if e == nil {
		t.Fatal("not registered")
	}
	sv := e.Service
	if sv.Port != 9643 || sv.Meta["secure"] != "true" || sv.Address != "127.0.0.1" {
		t.Errorf("port %d secure %q address %q; want the secure port 9643 with secure=true", sv.Port, sv.Meta["secure"], sv.Address)
	}
	if sv.Meta["management_port"] != "9601" || sv.Meta["zone"] != "zone-b" || sv.Meta["version"] != "v2" {
		t.Errorf("meta %v; want management_port, zone and version", sv.Meta)
	}
	if sv.Weights.Passing != 3 || strings.Join(sv.Tags, ",") != "v2" {
		t.Errorf("weights %+v tags %v; want 3 (2.6 rounded) and [v2]", sv.Weights, sv.Tags)
	}
	if got := e.Checks.AggregatedStatus(); got != api.HealthWarning {
		t.Errorf("checks %s, want warning for health warning", got)
	}
}

// TestPutRefusesWhatConsulCannotHold: a record Consul cannot hold gets a
// clear error naming the field, and nothing is written.
func TestPutRefusesWhatConsulCannotHold(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	long := strings.Repeat("x", 513)
	for _, tc := range []struct {
		name, want string
		set        func(*registry.Instance)
	}{
		{"two keys that become one", `metadata."a.b" and metadata."a_b"`, func(i *registry.Instance) { i.Metadata["a.b"], i.Metadata["a_b"] = "1", "2" }},
		{"reserved key", `metadata."consul-x"`, func(i *registry.Instance) { i.Metadata["consul-x"] = "1" }},
		{"value too long", `metadata."long"`, func(i *registry.Instance) { i.Metadata["long"] = long }},
		{"id with a slash", "id:", func(i *registry.Instance) { i.ID = "a/b" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := connectortest.Copy(connectortest.App("refused", "refused-1", 9700), "legacy", "syncer-a")
			tc.set(cp)
			err := c.Put(context.Background(), cp)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "consul: put refused/") {
				t.Fatalf("put: %v; want an error naming %s", err, tc.want)
			}
			if len(s.health(t, "refused", false)) != 0 {
				t.Fatal("a refused copy was written")
			}
		})
	}
}

// TestSinkRefusesAnotherDatacenter: copies are services of the agent, in
// its datacenter; a sink configured for another one writes nothing.
func TestSinkRefusesAnotherDatacenter(t *testing.T) {
	s := startStand(t, consulfe.Options{Datacenter: "dc2"})
	wrong := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"}, func(c *Config) { c.Datacenter = "dc1" })
	closeOnCleanup(t, wrong, true)
	cp := connectortest.Copy(connectortest.App("orders", "orders-1", 9800), "legacy", "syncer-a")
	if err := wrong.Put(context.Background(), cp); err == nil || !strings.Contains(err.Error(), `datacenter "dc2", not "dc1"`) {
		t.Fatalf("put into dc1 through a dc2 agent: %v; want the datacenters named", err)
	}
	if len(s.health(t, "orders", false)) != 0 {
		t.Fatal("a copy was written into the wrong datacenter")
	}
	right := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"}, func(c *Config) { c.Datacenter = "dc2" })
	closeOnCleanup(t, right, true)
	put(t, right, cp)
}

// TestWritesReadOneServiceOnly: a put and a delete read the copy's own
// service and checks, never a listing of the whole agent (which at
// 10,000 copies made each write cost 288 ms).
func TestWritesReadOneServiceOnly(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	target, _ := url.Parse("http://" + s.addr)
	var mu sync.Mutex
	var paths []string
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		mu.Lock()
		paths = append(paths, r.In.Method+" "+r.In.URL.Path)
		mu.Unlock()
		r.SetURL(target)
	}})
	t.Cleanup(proxy.Close)
	c := s.connector(t, registrysync.Env{Name: "consul-b", Owner: "syncer-a"}, func(c *Config) {
		c.Address = proxy.Listener.Addr().String()
	})
	closeOnCleanup(t, c, true)
	cp := connectortest.Copy(connectortest.App("stock", "stock-1", 9400), "legacy", "syncer-a")
	put(t, c, cp)
	put(t, c, cp.Clone())
	if err := c.Delete(context.Background(), cp); err != nil {
		t.Fatal(err)
	}
	if s.stored(t, "stock", "stock-1") != nil {
		t.Fatal("the copy is still there after Delete")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range paths {
		if p == "GET /v1/agent/checks" || p == "GET /v1/agent/services" {
			t.Errorf("a write read the whole agent: %s (requests %v)", p, paths)
			break
		}
	}
}
