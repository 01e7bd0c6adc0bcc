package nacos_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registrysync"
)

// A Nacos server lists no disabled instance to any client, the source's
// subscriptions included; the source finds one it saw in the console's
// catalog and reports it disabled, in its namespace, group and cluster,
// until it is enabled again or leaves.
func TestSourceReportsADisabledInstanceUntilItLeaves(t *testing.T) {
	s := startServer(t)
	app := s.client(t, "dev")
	app1 := vo.RegisterInstanceParam{Ip: "10.0.0.9", Port: 18600, Weight: 2, Enable: true, Healthy: true, Ephemeral: true,
		ClusterName: "east", ServiceName: "ledger", GroupName: "blue", Metadata: map[string]string{"version": "v4"}}
	if ok, err := app.RegisterInstance(app1); err != nil || !ok {
		t.Fatalf("register: ok=%v err=%v", ok, err)
	}
	// An app of another service keeps the registry from going empty.
	if ok, err := s.client(t, "dev").RegisterInstance(vo.RegisterInstanceParam{Ip: "10.0.0.9", Port: 18601, Weight: 1,
		Enable: true, Healthy: true, Ephemeral: true, ServiceName: "stays", GroupName: "blue"}); err != nil || !ok {
		t.Fatalf("register stays: ok=%v err=%v", ok, err)
	}
	id := naming.InstanceID("10.0.0.9", 18600, "east", "blue", "ledger")
	cfg := s.config()
	cfg.Namespaces, cfg.Groups = []string{"dev"}, []string{"blue"}
	reg := prometheus.NewRegistry()
	updates := follow(t, s.connectorWith(t, cfg, registrysync.Env{Owner: "syncer-a", Metrics: reg}))
	next(t, updates, 10*time.Second, "ledger listed enabled", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return u.Complete && got != nil && !got.Disabled
	})

	setEnabled := func(enabled bool) {
		t.Helper()
		ok, err := app.UpdateInstance(vo.UpdateInstanceParam{Ip: app1.Ip, Port: app1.Port, Weight: app1.Weight, Enable: enabled,
			Healthy: true, Ephemeral: true, ClusterName: app1.ClusterName, ServiceName: app1.ServiceName, GroupName: app1.GroupName,
			Metadata: app1.Metadata})
		if err != nil || !ok {
			t.Fatalf("set enabled=%v: ok=%v err=%v", enabled, ok, err)
		}
	}
	setEnabled(false)
	pushed := next(t, updates, 10*time.Second, "ledger disabled, by push", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return !u.Complete && got != nil && got.Disabled
	})
	got := find(pushed, "ledger", id)
	if got.Namespace != "dev" || got.Group != "blue" || got.Cluster != "east" || got.Weight != 2 || got.Labels["version"] != "v4" || got.Healthy() {
		t.Errorf("disabled instance reported as %+v", got)
	}
	next(t, updates, 10*time.Second, "ledger disabled in a complete listing", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return u.Complete && got != nil && got.Disabled
	})
	if n := counter(t, reg, "meshbridge_registrysync_nacos_catalog_requests_total", "result", "ok"); n < 1 {
		t.Errorf("catalog_requests_total{result=ok} = %v, want the lookups counted", n)
	}
	setEnabled(true)
	next(t, updates, 10*time.Second, "ledger enabled again", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return got != nil && !got.Disabled && got.Healthy()
	})
	setEnabled(false)
	next(t, updates, 10*time.Second, "ledger disabled again", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return got != nil && got.Disabled
	})
	if ok, err := app.DeregisterInstance(vo.DeregisterInstanceParam{Ip: app1.Ip, Port: app1.Port, Cluster: app1.ClusterName,
		ServiceName: app1.ServiceName, GroupName: app1.GroupName, Ephemeral: true}); err != nil || !ok {
		t.Fatalf("deregister: ok=%v err=%v", ok, err)
	}
	next(t, updates, 10*time.Second, "a complete listing without ledger", func(u registrysync.Update) bool {
		return u.Complete && find(u, "ledger", id) == nil && find(u, "stays", naming.InstanceID("10.0.0.9", 18601, "DEFAULT", "blue", "stays")) != nil
	})
}

// A catalog the source cannot read (here a wrong contextPath: the HTTP
// answer is 404 without Nacos's "is not found!") is no proof that a
// vanished instance left: nothing that drops it is sent, and the failed
// lookups are counted.
func TestSourceSendsNoRemovalWhenTheCatalogFails(t *testing.T) {
	s := startServer(t)
	app := s.client(t, "public")
	app1 := vo.RegisterInstanceParam{Ip: "10.0.0.9", Port: 18610, Weight: 1, Enable: true, Healthy: true, Ephemeral: true, ServiceName: "vault"}
	if ok, err := app.RegisterInstance(app1); err != nil || !ok {
		t.Fatalf("register: ok=%v err=%v", ok, err)
	}
	id := naming.InstanceID("10.0.0.9", 18610, "DEFAULT", "DEFAULT_GROUP", "vault")
	cfg := s.config()
	cfg.ContextPath = "/not-nacos"
	reg := prometheus.NewRegistry()
	updates := follow(t, s.connectorWith(t, cfg, registrysync.Env{Owner: "syncer-a", Metrics: reg}))
	next(t, updates, 10*time.Second, "vault listed", func(u registrysync.Update) bool { return u.Complete && find(u, "vault", id) != nil })

	app1.Enable = false
	if ok, err := app.UpdateInstance(vo.UpdateInstanceParam{Ip: app1.Ip, Port: app1.Port, Weight: 1, Enable: false,
		Healthy: true, Ephemeral: true, ServiceName: "vault"}); err != nil || !ok {
		t.Fatalf("disable: ok=%v err=%v", ok, err)
	}
	// Nothing to poll for: the claim is that no update drops vault, over
	// several list intervals and the push.
	deadline := time.After(2 * time.Second)
	for done := false; !done; {
		select {
		case u := <-updates:
			if g, ok := group(u, registrysync.ServiceKey{Namespace: "public", Group: "DEFAULT_GROUP", Service: "vault"}); (u.Complete || ok) && find(u, "vault", id) == nil {
				t.Fatalf("an update without vault while the catalog could not be read: complete=%v, group %v", u.Complete, g)
			}
		case <-deadline:
			done = true
		}
	}
	if n := counter(t, reg, "meshbridge_registrysync_nacos_catalog_requests_total", "result", "error"); n < 1 {
		t.Errorf("catalog_requests_total{result=error} = %v, want the failed lookups counted", n)
	}
}

// Nacos 3.x answers the v1 console API 410 Gone unless its compatibility
// switch is on: the source cannot tell a disabled instance from a removed
// one there, and takes it as removed rather than stopping. The 410 comes
// from a stand-in HTTP server (the adapter serves the catalog); the
// client's gRPC goes to the adapter.
func TestSourceTakesVanishedAsRemovedWhenTheCatalogIsOff(t *testing.T) {
	s := startServer(t)
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, `{"code":410,"message":"Current API will be deprecated, ... nacos.core.api.compatibility.console.enabled","data":null}`)
	}))
	t.Cleanup(gone.Close)
	app := s.client(t, "public")
	batch := func(secondEnabled bool) {
		t.Helper()
		if ok, err := app.BatchRegisterInstance(vo.BatchRegisterInstanceParam{ServiceName: "till", Instances: []vo.RegisterInstanceParam{
			{Ip: "10.0.0.9", Port: 18620, Weight: 1, Enable: true, Healthy: true, Ephemeral: true},
			{Ip: "10.0.0.9", Port: 18621, Weight: 1, Enable: secondEnabled, Healthy: true, Ephemeral: true},
		}}); err != nil || !ok {
			t.Fatalf("register: ok=%v err=%v", ok, err)
		}
	}
	batch(true)
	kept, dropped := naming.InstanceID("10.0.0.9", 18620, "DEFAULT", "DEFAULT_GROUP", "till"), naming.InstanceID("10.0.0.9", 18621, "DEFAULT", "DEFAULT_GROUP", "till")
	cfg := s.config()
	cfg.Servers = []string{gone.Listener.Addr().String()}
	reg := prometheus.NewRegistry()
	updates := follow(t, s.connectorWith(t, cfg, registrysync.Env{Owner: "syncer-a", Metrics: reg}))
	next(t, updates, 10*time.Second, "both listed", func(u registrysync.Update) bool {
		return u.Complete && find(u, "till", kept) != nil && find(u, "till", dropped) != nil
	})
	batch(false)
	next(t, updates, 10*time.Second, "a complete listing without the disabled one", func(u registrysync.Update) bool {
		return u.Complete && find(u, "till", kept) != nil && find(u, "till", dropped) == nil
	})
	if n := counter(t, reg, "meshbridge_registrysync_nacos_catalog_requests_total", "result", "off"); n < 1 {
		t.Errorf("catalog_requests_total{result=off} = %v, want the refused lookups counted", n)
	}
}
