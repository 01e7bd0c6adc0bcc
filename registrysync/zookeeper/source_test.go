package zookeeper

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// await waits for an update within the tests' bound.
func await(t *testing.T, updates <-chan registrysync.Update, what string, ok func(registrysync.Update) bool) registrysync.Update {
	t.Helper()
	return connectortest.Await(t, within, updates, what, ok)
}

// The source reads the records Spring apps write, byte for byte as the
// fixtures hold them, and skips (and counts) a node that holds none.
func TestSourceReadsSpringRecords(t *testing.T) {
	srv := zookeepertest.Start(t)
	apps := srv.Connect(t, 10*testSessionTimeout)
	root := NewConfig().Root
	nodes := map[string]string{
		root + "/orders/0f0a2cbc-4ba3-4ffa-9fcc-4daa8701a320":   "spring-instance.json",
		root + "/payments/5c1d6f0e-2b8a-4f43-9d1e-7a0b3c9e8f21": "spring-instance-ssl-out-of-service.json",
		root + "/orders/garbage":                                "",
	}
	for path, file := range nodes {
		data := []byte("not a record")
		if file != "" {
			var err error
			if data, err = os.ReadFile(filepath.Join("testdata", file)); err != nil {
				t.Fatal(err)
			}
		}
		if err := ensureParents(&client{conn: apps}, path); err != nil {
			t.Fatal(err)
		}
		if _, err := apps.Create(path, data, zk.FlagEphemeral, openACL); err != nil {
			t.Fatal(err)
		}
	}
	c := newTestConnector(t, srv, "syncer-a")
	u := await(t, connectortest.Follow(t, c), "the first complete listing", func(u registrysync.Update) bool { return u.Complete })
	orders := connectortest.Find(u, "orders", "0f0a2cbc-4ba3-4ffa-9fcc-4daa8701a320")
	payments := connectortest.Find(u, "payments", "5c1d6f0e-2b8a-4f43-9d1e-7a0b3c9e8f21")
	switch {
	case orders == nil || payments == nil:
		t.Fatalf("listing %+v lacks a fixture", u.Groups)
	case orders.Host != "10.1.2.3" || orders.Port != 8004 || orders.Status != registry.StatusUp || orders.Zone != "zone-a":
		t.Errorf("orders read as %+v", orders)
	case payments.Status != registry.StatusOutOfService || payments.SecurePort != 8443 || !payments.SecureEnabled:
		t.Errorf("payments read as %+v", payments)
	}
	if connectortest.Find(u, "orders", "garbage") != nil {
		t.Error("a node without a record was listed")
	}
	if n := testutil.ToFloat64(c.metrics.badRecords); n != 1 {
		t.Errorf("bad records counted %v, want 1", n)
	}
}

// After its session expires the source lists everything again, complete,
// and follows changes with the watches of its new session.
func TestSourceListsAgainAfterItsSessionExpires(t *testing.T) {
	srv := zookeepertest.Start(t)
	apps := srv.Connect(t, 10*testSessionTimeout)
	root := NewConfig().Root
	first := &registry.Instance{Service: "expiring", ID: "expiring-1", Host: "127.0.0.1", Port: 18001}
	registerApp(t, apps, root, first)
	var sessions zookeepertest.Sessions
	c := newTestConnector(t, srv, "syncer-a")
	c.dialer = sessions.Dial
	updates := connectortest.Follow(t, c)
	await(t, updates, "the first complete listing", func(u registrysync.Update) bool {
		return u.Complete && connectortest.Find(u, first.Service, first.ID) != nil
	})

	srv.ExpireLast(t, &sessions)
	await(t, updates, "a complete listing in the new session", func(u registrysync.Update) bool {
		return u.Complete && connectortest.Find(u, first.Service, first.ID) != nil
	})
	second := &registry.Instance{Service: "expiring", ID: "expiring-2", Host: "127.0.0.1", Port: 18002}
	registerApp(t, apps, root, second)
	await(t, updates, "expiring-2, seen by a watch of the new session", func(u registrysync.Update) bool {
		return connectortest.Find(u, second.Service, second.ID) != nil
	})
	if n := testutil.ToFloat64(c.metrics.expiries); n != 1 {
		t.Errorf("source expiries counted %v, want 1", n)
	}
}

// Stale beats partial: while ZooKeeper is down the source sends nothing;
// when it is back, a complete listing comes first.
func TestSourceSendsNothingWhileZooKeeperIsDown(t *testing.T) {
	srv := zookeepertest.Start(t)
	apps := srv.Connect(t, 30*time.Second) // outlives the outage, as an app's session does
	root := NewConfig().Root
	app := &registry.Instance{Service: "outage", ID: "outage-1", Host: "127.0.0.1", Port: 18003}
	registerApp(t, apps, root, app)
	c := newTestConnector(t, srv, "syncer-a")
	updates := connectortest.Follow(t, c)
	await(t, updates, "the first complete listing", func(u registrysync.Update) bool { return u.Complete })

	srv.Stop(t)
	// Nothing may come while the server is down; there is no event to
	// wait for, so the check is bounded by time.
	select {
	case u := <-updates:
		t.Fatalf("an update while ZooKeeper was down: %+v", u)
	case <-time.After(2 * testSessionTimeout):
	}
	srv.Restart(t)
	u := await(t, updates, "an update after ZooKeeper came back", func(registrysync.Update) bool { return true })
	if !u.Complete || connectortest.Find(u, app.Service, app.ID) == nil {
		t.Fatalf("first update after the outage: complete=%v groups=%+v; want a complete listing with outage-1", u.Complete, u.Groups)
	}
}

// A root that does not exist yet is an empty registry; the source sees
// it appear.
func TestSourceWaitsForTheRoot(t *testing.T) {
	srv := zookeepertest.Start(t)
	apps := srv.Connect(t, 10*testSessionTimeout)
	c := newTestConnector(t, srv, "syncer-a", func(cfg *Config) { cfg.Root = "/legacy/services" })
	updates := connectortest.Follow(t, c)
	u := await(t, updates, "a complete listing of the empty registry", func(u registrysync.Update) bool { return u.Complete })
	if len(u.Groups) != 0 {
		t.Fatalf("groups %+v in a registry without its root", u.Groups)
	}
	app := &registry.Instance{Service: "late", ID: "late-1", Host: "127.0.0.1", Port: 18004}
	registerApp(t, apps, "/legacy/services", app)
	await(t, updates, "late-1 under the root created after the listing", func(u registrysync.Update) bool {
		return connectortest.Find(u, app.Service, app.ID) != nil
	})
}

// An app that changes its record (Spring's service-registry endpoint
// setting OUT_OF_SERVICE) is followed through the node's data watch.
func TestSourceFollowsStatusChanges(t *testing.T) {
	srv := zookeepertest.Start(t)
	apps := srv.Connect(t, 10*testSessionTimeout)
	root := NewConfig().Root
	app := &registry.Instance{Service: "status", ID: "status-1", Host: "127.0.0.1", Port: 18005}
	registerApp(t, apps, root, app)
	c := newTestConnector(t, srv, "syncer-a")
	updates := connectortest.Follow(t, c)
	await(t, updates, "status-1 UP", func(u registrysync.Update) bool {
		in := connectortest.Find(u, app.Service, app.ID)
		return in != nil && in.Status == registry.StatusUp
	})
	oos := app.Clone()
	oos.Status = registry.StatusOutOfService
	if _, err := apps.Set(nodePath(root, app.Service, app.ID), springRecord(t, oos), -1); err != nil {
		t.Fatal(err)
	}
	await(t, updates, "status-1 OUT_OF_SERVICE", func(u registrysync.Update) bool {
		in := connectortest.Find(u, app.Service, app.ID)
		return in != nil && in.Status == registry.StatusOutOfService
	})
	if err := apps.Delete(nodePath(root, app.Service, app.ID), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		t.Fatal(err)
	}
	await(t, updates, "status without instances", func(u registrysync.Update) bool {
		for _, g := range u.Groups {
			if g.Key.Service == app.Service {
				return len(g.Instances) == 0
			}
		}
		return false
	})
}
