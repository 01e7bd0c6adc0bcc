package nacos_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
	"github.com/meshbridge/meshbridge/registrysync/nacos"
)

// A Nacos server keeps ephemeral instances in memory: after a restart
// its registry is empty, and copies come back only because the client
// registers them again on its new connection. For batch registrations
// nacos-sdk-go does (its redo cache holds the last set of each service);
// this checks it, for a service with two copies and one with one, and
// that a running source sees them again.
func TestCopiesSurviveAServerRestart(t *testing.T) {
	skipReconnectUnderRace(t)
	s := startServer(t)
	c := s.connector(t, s.config(), "syncer-a")
	copies := []*registry.Instance{
		connectortest.Copy(connectortest.App("restart-a", "a-1", 18500), "legacy-eureka", "syncer-a"),
		connectortest.Copy(connectortest.App("restart-a", "a-2", 18501), "legacy-eureka", "syncer-a"),
		connectortest.Copy(connectortest.App("restart-b", "b-1", 18502), "legacy-eureka", "syncer-a"),
	}
	for _, cp := range copies {
		if err := c.Put(bounded(t), cp); err != nil {
			t.Fatal(err)
		}
	}
	updates := follow(t, c)
	next(t, updates, 10*time.Second, "a listing with every copy", func(u registrysync.Update) bool {
		return u.Complete && find(u, "restart-a", "a-1") != nil && find(u, "restart-a", "a-2") != nil && find(u, "restart-b", "b-1") != nil
	})

	s.restart() // a fresh registry: what is there afterwards was registered again
	// The restarted server stops when the test ends before the connector's
	// own cleanup would run: close it while the server still answers.
	t.Cleanup(func() {
		if err := c.Close(bounded(t), true); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	poll.UntilNil(t, "the copies registered again", func() error {
		if a, b := len(s.instances("restart-a")), len(s.instances("restart-b")); a != 2 || b != 1 {
			return fmt.Errorf("restart-a has %d, restart-b %d", a, b)
		}
		return nil
	}, poll.Within(20*time.Second))
	poll.UntilNil(t, "Owned lists them", func() error { return wantOwned(t, c, "a-1", "a-2", "b-1") })
	next(t, updates, 20*time.Second, "a listing after the restart with every copy", func(u registrysync.Update) bool {
		return u.Complete && find(u, "restart-a", "a-1") != nil && find(u, "restart-a", "a-2") != nil && find(u, "restart-b", "b-1") != nil
	})
}

// Copies live with the sink's connection: closing the connector takes
// them off the server, with remove or without.
func TestCopiesGoWithTheConnection(t *testing.T) {
	for _, remove := range []bool{false, true} {
		t.Run(fmt.Sprintf("remove=%v", remove), func(t *testing.T) {
			s := startServer(t)
			c, err := nacos.New(s.config(), registrysync.Env{Name: "legacy-nacos", Owner: "syncer-a", Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				cp := connectortest.Copy(connectortest.App("closing", fmt.Sprintf("closing-%d", i), 18510+i), "legacy-eureka", "syncer-a")
				if err := c.Put(bounded(t), cp); err != nil {
					t.Fatal(err)
				}
			}
			if n := len(s.instances("closing")); n != 2 {
				t.Fatalf("%d copies on the server, want 2", n)
			}
			if err := c.Close(bounded(t), remove); err != nil {
				t.Fatal(err)
			}
			poll.UntilNil(t, "no copy left", func() error {
				if n := len(s.instances("closing")); n != 0 {
					return fmt.Errorf("%d copies", n)
				}
				return nil
			})
			if err := c.Put(bounded(t), connectortest.Copy(connectortest.App("closing", "late", 18519), "legacy-eureka", "syncer-a")); err == nil {
				t.Error("a closed connector accepted a copy")
			}
			if err := c.Close(bounded(t), remove); err != nil {
				t.Errorf("closing twice: %v", err)
			}
		})
	}
}

// A source that cannot reach Nacos sends nothing (stale beats partial),
// and says so in its metrics.
func TestSourceSendsNothingWhileNacosIsUnreachable(t *testing.T) {
	s := newServer(t) // not started: nothing listens on its ports
	reg := prometheus.NewRegistry()
	updates := follow(t, s.connectorWith(t, s.config(), registrysync.Env{Owner: "syncer-a", Metrics: reg}))
	// Nothing to poll for: the claim is that nothing comes, over several
	// list intervals and the client's reconnect attempts.
	select {
	case u := <-updates:
		t.Fatalf("an unreachable server gave an update: %+v", u)
	case <-time.After(3 * time.Second):
	}
	if n := counter(t, reg, "meshbridge_registrysync_nacos_listings_total", "result", "error"); n < 1 {
		t.Errorf("listings_total{result=error} = %v, want the failed listings counted", n)
	}
}

// A source started before its Nacos sends, once it reaches it, a
// complete listing first.
func TestSourceListsCompletelyOnceNacosIsReachable(t *testing.T) {
	skipReconnectUnderRace(t)
	s := newServer(t) // started below, after the source
	reg := prometheus.NewRegistry()
	updates := follow(t, s.connectorWith(t, s.config(), registrysync.Env{Owner: "syncer-a", Metrics: reg}))
	poll.UntilNil(t, "a failed listing", func() error {
		if counter(t, reg, "meshbridge_registrysync_nacos_listings_total", "result", "error") < 1 {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	s.start()
	apps := newApps(t, s)
	inst := connectortest.App("late-orders", "", 18520)
	apps.register(t, inst)
	u := next(t, updates, 30*time.Second, "an update once the server is up", func(registrysync.Update) bool { return true })
	if !u.Complete {
		t.Fatalf("first update after reaching the server is not a complete listing: %+v", u)
	}
	next(t, updates, 10*time.Second, "late-orders listed", func(u registrysync.Update) bool {
		return u.Complete && find(u, "late-orders", inst.ID) != nil
	})
	if n := counter(t, reg, "meshbridge_registrysync_nacos_listings_total", "result", "ok"); n < 1 {
		t.Errorf("listings_total{result=ok} = %v, want at least 1", n)
	}
}

// skipReconnectUnderRace skips a test in which a client reconnects when
// the race detector runs: nacos-sdk-go v2.3.2 writes RpcClient's
// currentConnection on reconnect while its own event goroutine and every
// request read it, unsynchronised (nacos-sdk-go#905; fixed on master by
// #887, in no release yet). The race is the library's with itself.
func skipReconnectUnderRace(t *testing.T) {
	if raceDetector {
		t.Skip("nacos-sdk-go v2.3.2 races with itself when a client reconnects (nacos-sdk-go#905): run without -race")
	}
}

// counter reads a counter of reg by name and one label.
func counter(t testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
