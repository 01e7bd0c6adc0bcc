package eureka

import (
	"context"
	"testing"
	"time"

	"github.com/hudl/fargo"
	"github.com/prometheus/client_golang/prometheus/testutil"

	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// next returns the next update, failing the test after within.
func next(t *testing.T, updates <-chan registrysync.Update, what string) registrysync.Update {
	t.Helper()
	return connectortest.Await(t, within, updates, what, func(registrysync.Update) bool { return true })
}

func follow(t *testing.T, c *Connector) <-chan registrysync.Update { return connectortest.Follow(t, c) }

var find = connectortest.Find

func counter(c *Connector, kind, result string) float64 {
	return testutil.ToFloat64(c.metrics.fetches.WithLabelValues(kind, result))
}

// TestSourceFollowsDeltas: after the first full fetch, sent complete, a
// registration reaches the source through the delta alone and is sent as
// a partial update naming its service.
func TestSourceFollowsDeltas(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	s.register(t, connectortest.App("orders", "orders-1", 8080))
	c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"})
	updates := follow(t, c)
	first := next(t, updates, "the first listing")
	if !first.Complete || find(first, "orders", "orders-1") == nil {
		t.Fatalf("first update: complete %v, groups %+v; want a complete listing with orders-1", first.Complete, first.Groups)
	}
	s.register(t, connectortest.App("orders", "orders-2", 8081))
	u := next(t, updates, "orders-2 after the listing")
	if u.Complete || len(u.Groups) != 1 || len(u.Groups[0].Instances) != 2 || find(u, "orders", "orders-2") == nil {
		t.Fatalf("update after a registration: complete %v, groups %+v; want orders with both instances, from the delta", u.Complete, u.Groups)
	}
	if full, delta := counter(c, "full", "ok"), counter(c, "delta", "ok"); full != 1 || delta < 1 {
		t.Errorf("fetches: %v full, %v delta; want 1 full and the rest deltas", full, delta)
	}
}

// TestSourceFetchesInFullWhenTheDeltaFallsShort covers the two ways the
// delta cannot be followed: a delta that misses a change (the stand keeps
// changes for 1ns, so every delta is empty and the hashcode no longer
// matches) and a server that refuses the delta (403). Either way the
// source fetches in full and the change arrives in a complete update.
func TestSourceFetchesInFullWhenTheDeltaFallsShort(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   eurekafe.Options
		result string
	}{
		{"hashcode mismatch", eurekafe.Options{DeltaRetention: time.Nanosecond}, "mismatch"},
		{"delta refused", eurekafe.Options{DisableDelta: true}, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStand(t, tc.opts)
			s.register(t, connectortest.App("orders", "orders-1", 8080))
			c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"})
			updates := follow(t, c)
			next(t, updates, "the first listing")
			s.register(t, connectortest.App("orders", "orders-2", 8081))
			u := next(t, updates, "orders-2 after the listing")
			if !u.Complete || find(u, "orders", "orders-2") == nil || find(u, "orders", "orders-1") == nil {
				t.Fatalf("update: complete %v, groups %+v; want a complete listing with both", u.Complete, u.Groups)
			}
			if n := counter(c, "delta", tc.result); n < 1 {
				t.Errorf("deltas counted as %s: %v, want at least 1", tc.result, n)
			}
		})
	}
}

// TestSourceSendsNothingWhileTheServerFails: while the server answers
// 500 the source sends nothing (stale beats partial), and its first
// update after is a complete listing with what changed meanwhile.
func TestSourceSendsNothingWhileTheServerFails(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	s.register(t, connectortest.App("orders", "orders-1", 8080))
	c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"})
	updates := follow(t, c)
	next(t, updates, "the first listing")
	s.door.Fail(true)
	in := connectortest.App("orders", "orders-2", 8081)
	in.Origin = registry.OriginEureka
	if _, err := s.store().Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * c.cfg.PollInterval)
	for waiting := true; waiting; {
		select {
		case u := <-updates:
			t.Fatalf("an update while the server fails: %+v", u)
		case <-deadline:
			waiting = false
		}
	}
	if counter(c, "delta", "error")+counter(c, "full", "error") < 1 {
		t.Fatal("no failed fetch counted while the server fails")
	}
	s.door.Fail(false)
	u := next(t, updates, "the listing after the server recovers")
	if !u.Complete || find(u, "orders", "orders-2") == nil {
		t.Fatalf("first update after recovery: complete %v, groups %+v; want a complete listing with orders-2", u.Complete, u.Groups)
	}
}

// TestStatusFromEureka: apps' statuses, including an OUT_OF_SERVICE
// override, reach the model as Eureka shows them.
func TestStatusFromEureka(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	want := map[string]registry.Status{}
	for _, st := range []registry.Status{registry.StatusUp, registry.StatusDown, registry.StatusStarting} {
		in := connectortest.App("orders", "orders-"+string(st), 8080)
		in.Status = st
		s.register(t, in)
		want[in.ID] = st
	}
	oos := s.register(t, connectortest.App("orders", "orders-oos", 8080))
	if err := s.fargo().UpdateInstanceStatus(oos, fargo.OUTOFSERVICE); err != nil {
		t.Fatal(err)
	}
	want["orders-oos"] = registry.StatusOutOfService
	c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"})
	u := next(t, follow(t, c), "the first listing")
	for id, st := range want {
		got := find(u, "orders", id)
		if got == nil {
			t.Fatalf("%s not listed", id)
		}
		if got.Status != st || got.EffectiveStatus() != st {
			t.Errorf("%s: status %s (effective %s), want %s", id, got.Status, got.EffectiveStatus(), st)
		}
	}
	if got := find(u, "orders", "orders-oos"); got.OverriddenStatus != registry.StatusOutOfService {
		t.Errorf("orders-oos: override %q, want OUT_OF_SERVICE", got.OverriddenStatus)
	}
}
