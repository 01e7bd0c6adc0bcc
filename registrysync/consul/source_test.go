package consul

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus/testutil"

	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

func follow(t *testing.T, c *Connector) <-chan registrysync.Update { return connectortest.Follow(t, c) }

// await reads updates until one satisfies ok, failing after within.
func await(t *testing.T, updates <-chan registrysync.Update, what string, ok func(registrysync.Update) bool) registrysync.Update {
	t.Helper()
	return connectortest.Await(t, within, updates, what, ok)
}

var find = connectortest.Find

// indexShifter is a proxy in front of the stand that adds shift to every
// X-Consul-Index it passes back (and takes it off the index of blocking
// queries), so that setting shift to 0 makes the catalog's index go
// backwards, as a Consul cluster restored from a snapshot or rebuilt does.
type indexShifter struct {
	shift atomic.Uint64
	srv   *httptest.Server
}

func newIndexShifter(t *testing.T, s *stand, shift uint64) *indexShifter {
	p := &indexShifter{}
	p.shift.Store(shift)
	target, _ := url.Parse("http://" + s.addr)
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			q := r.Out.URL.Query()
			if n, err := strconv.ParseUint(q.Get("index"), 10, 64); err == nil && n >= p.shift.Load() {
				q.Set("index", strconv.FormatUint(n-p.shift.Load(), 10))
				r.Out.URL.RawQuery = q.Encode()
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if n, err := strconv.ParseUint(resp.Header.Get("X-Consul-Index"), 10, 64); err == nil {
				resp.Header.Set("X-Consul-Index", strconv.FormatUint(n+p.shift.Load(), 10))
			}
			return nil
		},
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

// TestIndexWentBackwardsStartsOver: when the catalog's X-Consul-Index goes
// backwards the source does not keep blocking on the old, higher index
// (which would stall it until the index caught up): it resets, lists the
// catalog again, sends that complete, and follows changes from there.
func TestIndexWentBackwardsStartsOver(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	s.register(t, connectortest.App("orders", "orders-1", 9000))
	proxy := newIndexShifter(t, s, 1_000_000)
	c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"}, func(c *Config) {
		c.Address = proxy.srv.Listener.Addr().String()
	})
	updates := follow(t, c)
	await(t, updates, "the first listing", func(u registrysync.Update) bool { return u.Complete })

	proxy.shift.Store(0) // the catalog's index is now about a million lower
	s.register(t, connectortest.App("orders", "orders-2", 9001))
	s.register(t, connectortest.App("billing", "billing-1", 9002))
	u := await(t, updates, "a complete listing after the index went back", func(u registrysync.Update) bool { return u.Complete })
	if find(u, "orders", "orders-2") == nil || find(u, "billing", "billing-1") == nil {
		t.Errorf("the listing after the reset lacks what was registered: %+v", u.Groups)
	}
	s.register(t, connectortest.App("billing", "billing-2", 9003))
	await(t, updates, "billing-2 followed after the reset", func(u registrysync.Update) bool { return find(u, "billing", "billing-2") != nil })
	if n := testutil.ToFloat64(c.metrics.indexResets.WithLabelValues("catalog")); n < 1 {
		t.Errorf("catalog index resets counted: %v, want at least 1", n)
	}
}

func TestNextIndex(t *testing.T) {
	for _, tc := range []struct{ prev, got, want uint64 }{
		{0, 5, 5}, {5, 5, 5}, {5, 9, 9},
		{9, 5, 0}, // backwards: start over
		{0, 0, 1}, // zero: a server bug, taken as 1
	} {
		if got := nextIndex(tc.prev, tc.got); got != tc.want {
			t.Errorf("nextIndex(%d, %d) = %d, want %d", tc.prev, tc.got, got, tc.want)
		}
	}
}

// TestSourceDatacenter: the source lists the configured datacenter and
// keeps it on each instance; a datacenter the agent cannot reach sends
// nothing (Consul answers 500 "No path to datacenter").
func TestSourceDatacenter(t *testing.T) {
	s := startStand(t, consulfe.Options{Datacenter: "dc2"})
	s.register(t, connectortest.App("orders", "orders-1", 9000))
	for _, dc := range []string{"dc2", ""} {
		c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"}, func(c *Config) { c.Datacenter = dc })
		u := await(t, follow(t, c), "the listing of "+dc, func(u registrysync.Update) bool { return u.Complete })
		got := find(u, "orders", "orders-1")
		if got == nil || got.Attributes[attrDatacenter] != "dc2" {
			t.Errorf("datacenter %q: listed %+v; want orders-1 with attribute %s dc2", dc, got, attrDatacenter)
		}
	}
	other := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"}, func(c *Config) { c.Datacenter = "dc9" })
	updates := follow(t, other)
	select {
	case u := <-updates:
		t.Fatalf("an update from a datacenter the agent cannot reach: %+v", u)
	case <-time.After(2 * time.Second):
	}
	if n := testutil.ToFloat64(other.metrics.queries.WithLabelValues("catalog", "error")); n < 1 {
		t.Errorf("failed catalog queries counted: %v", n)
	}
}

// TestStatusFromConsul: checks and maintenance reach the model: health is
// the worst check, maintenance is OUT_OF_SERVICE.
func TestStatusFromConsul(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	agent := s.client().Agent()
	for _, st := range []string{api.HealthPassing, api.HealthWarning, api.HealthCritical} {
		err := agent.ServiceRegister(&api.AgentServiceRegistration{
			ID: "pay-" + st, Name: "pay", Address: "127.0.0.1", Port: 9000,
			Check: &api.AgentServiceCheck{TTL: "1h", Status: st},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.register(t, connectortest.App("pay", "pay-maintenance", 9001))
	if err := agent.EnableServiceMaintenance("pay-maintenance", "upgrade"); err != nil {
		t.Fatal(err)
	}
	c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"})
	u := await(t, follow(t, c), "the listing", func(u registrysync.Update) bool { return u.Complete })
	for id, want := range map[string]struct {
		status registry.Status
		health registry.Health
	}{
		"pay-passing":     {registry.StatusUp, registry.HealthPassing},
		"pay-warning":     {registry.StatusUp, registry.HealthWarning},
		"pay-critical":    {registry.StatusUp, registry.HealthCritical},
		"pay-maintenance": {registry.StatusOutOfService, registry.HealthPassing},
	} {
		got := find(u, "pay", id)
		if got == nil || got.Status != want.status || got.Health != want.health {
			t.Errorf("%s: %+v; want status %s health %s", id, got, want.status, want.health)
		}
	}
}

// TestSourceSendsNothingWhileUnreachable: while the agent is down the
// source sends nothing; its first update after is a complete listing.
func TestSourceSendsNothingWhileUnreachable(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	s.register(t, connectortest.App("orders", "orders-1", 9000))
	c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"})
	updates := follow(t, c)
	await(t, updates, "the first listing", func(u registrysync.Update) bool { return u.Complete })
	s.close()
	select {
	case u := <-updates:
		t.Fatalf("an update while the agent is down: %+v", u)
	case <-time.After(time.Second):
	}
	if n := testutil.ToFloat64(c.metrics.queries.WithLabelValues("catalog", "error")); n < 1 {
		t.Errorf("failed catalog queries counted: %v", n)
	}
	s.startAgain() // without orders-1: an agent that lost its state
	s.register(t, connectortest.App("orders", "orders-2", 9001))
	u := await(t, updates, "an update after the agent came back", func(registrysync.Update) bool { return true })
	if !u.Complete || find(u, "orders", "orders-1") != nil {
		t.Fatalf("first update after the agent came back: complete %v, groups %+v; want a complete listing without orders-1", u.Complete, u.Groups)
	}
}
