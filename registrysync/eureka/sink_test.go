package eureka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hudl/fargo"
	"github.com/prometheus/client_golang/prometheus/testutil"

	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

var (
	put            = connectortest.Put
	closeNow       = connectortest.Close
	closeOnCleanup = connectortest.CloseOnCleanup
)

// TestRenewalAnswered404RegistersAgain loses a copy at the server in the
// two ways Eureka answers its renewal with 404, and wants it back: the
// sink registers a copy again when that happens (issue 19, rule 8).
func TestRenewalAnswered404RegistersAgain(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose func(t *testing.T, s *stand, w *fargo.Instance)
	}{
		{"server restarted empty", func(t *testing.T, s *stand, _ *fargo.Instance) { s.restartEmpty() }},
		{"copy cancelled behind the sink's back", func(t *testing.T, s *stand, w *fargo.Instance) {
			if err := s.fargo().DeregisterInstance(w); err != nil {
				t.Fatalf("cancel the copy: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStand(t, eurekafe.Options{})
			c := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
			defer closeNow(t, c, true)
			cp := connectortest.Copy(connectortest.App("orders", "orders-1", 8080), "legacy", "syncer-a")
			put(t, c, cp)
			if s.instance(t, "ORDERS", "orders-1") == nil {
				t.Fatal("the copy is not registered after Put")
			}
			tc.lose(t, s, &fargo.Instance{App: "ORDERS", InstanceId: "orders-1"})
			if s.instance(t, "ORDERS", "orders-1") != nil {
				t.Fatal("the copy is still registered after it was lost")
			}
			poll.UntilNil(t, "the copy registered again", func() error {
				w := s.instance(t, "ORDERS", "orders-1")
				if w == nil {
					return fmt.Errorf("not registered")
				}
				if meta, _ := metadataOf(w); meta[registrysync.MetaOwner] != "syncer-a" || meta["version"] != "v2" {
					return fmt.Errorf("registered with metadata %v", meta)
				}
				if n := testutil.ToFloat64(c.metrics.renewals.WithLabelValues("reregistered")); n < 1 {
					return fmt.Errorf("renewals counted as reregistered: %v", n)
				}
				return nil
			}, poll.Within(within))
		})
	}
}

// TestAdoptedCopyIsRenewedNotRevived: a syncer that lists its copies
// (after a restart or a takeover) renews them without writing them, and
// one that is then cancelled stays cancelled: only a copy this process
// put is brought back.
func TestAdoptedCopyIsRenewedNotRevived(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	before := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	keep := connectortest.Copy(connectortest.App("pay", "pay-1", 8081), "legacy", "syncer-a")
	drop := connectortest.Copy(connectortest.App("pay", "pay-2", 8082), "legacy", "syncer-a")
	put(t, before, keep)
	put(t, before, drop)
	if err := before.Close(context.Background(), false); err != nil { // a restart: copies left to the next run
		t.Fatal(err)
	}
	revision := s.stored(t, "pay", "pay-1").Revision

	after := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	closeOnCleanup(t, after, false)
	owned, err := after.Owned(context.Background())
	if err != nil || len(owned) != 2 {
		t.Fatalf("owned: %d copies, %v; want 2", len(owned), err)
	}
	if err := s.fargo().DeregisterInstance(&fargo.Instance{App: "PAY", InstanceId: "pay-2"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * lease) // the registry's own clock: pay-1 lives on renewals alone
	if s.instance(t, "PAY", "pay-1") == nil {
		t.Fatalf("the adopted copy expired: Owned did not make the sink renew it")
	}
	if got := s.stored(t, "pay", "pay-1").Revision; got != revision {
		// Renewals do not write a revision; a registration would.
		t.Errorf("the adopted copy was written again (revision %d, was %d)", got, revision)
	}
	if s.instance(t, "PAY", "pay-2") != nil {
		t.Errorf("a cancelled adopted copy was registered again")
	}
	if n := testutil.ToFloat64(after.metrics.renewals.WithLabelValues("gone")); n < 1 {
		t.Errorf("renewals counted as gone: %v, want at least 1", n)
	}
}

// TestPutWritesOnlyChanges: putting a copy the server already holds as
// it would be written writes nothing (the engine's steady state), and a
// change is written.
func TestPutWritesOnlyChanges(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	c := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	cp := connectortest.Copy(connectortest.App("stock", "stock-1", 8083), "legacy", "syncer-a")
	cp.SecurePort, cp.SecureEnabled, cp.Zone = 8443, true, "zone-a"
	cp.Attributes = map[string]string{"eureka.statusPageUrl": "http://127.0.0.1:8083/info"}
	put(t, c, cp)
	first := s.stored(t, "stock", "stock-1").Revision
	put(t, c, cp.Clone())
	if got := s.stored(t, "stock", "stock-1").Revision; got != first {
		t.Errorf("an unchanged put wrote the copy again (revision %d, was %d)", got, first)
	}
	cp.Metadata["version"] = "v3"
	put(t, c, cp)
	if got := s.stored(t, "stock", "stock-1"); got.Revision == first || got.Metadata["version"] != "v3" {
		t.Errorf("a changed put was not written: revision %d, metadata %v", got.Revision, got.Metadata)
	}
}

// TestCopyNeverReplacesAnApp: an app's own registration under the id a
// copy would take is neither replaced by Put nor removed by Delete.
func TestCopyNeverReplacesAnApp(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	app := connectortest.App("billing", "billing-1", 8084)
	s.register(t, app)
	c := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	cp := connectortest.Copy(connectortest.App("billing", "billing-1", 9999), "legacy", "syncer-a")
	if err := c.Put(context.Background(), cp); err == nil {
		t.Error("a copy replaced an app's registration")
	}
	if err := c.Delete(context.Background(), cp); err == nil {
		t.Error("deleting a copy removed an app's registration")
	}
	if w := s.instance(t, "BILLING", "billing-1"); w == nil || w.Port != 8084 {
		t.Fatalf("the app's registration changed: %+v", w)
	}
}

// TestRenewalsInParallel renews many adopted copies with several workers
// at once as the connector's first fargo calls (run with -race: fargo
// writes its connection on its first request).
func TestRenewalsInParallel(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	before := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	for i := range 20 {
		put(t, before, connectortest.Copy(connectortest.App("many", fmt.Sprintf("many-%d", i), 7000+i), "legacy", "syncer-a"))
	}
	if err := before.Close(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	c := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	if owned, err := c.Owned(context.Background()); err != nil || len(owned) != 20 {
		t.Fatalf("owned %d, %v", len(owned), err)
	}
	poll.UntilNil(t, "every copy renewed", func() error {
		if n := testutil.ToFloat64(c.metrics.renewals.WithLabelValues("ok")); n < 20 {
			return fmt.Errorf("%v renewals", n)
		}
		return nil
	}, poll.Within(within))
}
