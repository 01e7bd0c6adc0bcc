package registrysync_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/mesh"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

const within = 15 * time.Second

func planes(t *testing.T) (a, m *meshtest.Plane) {
	a = meshtest.Start(t, meshtest.Options{Token: token})
	m = meshtest.Start(t, meshtest.Options{Token: token, ExpiryInterval: 200 * time.Millisecond})
	return a, m
}

// Rule 1: a copy is never exported again, so A<->B copies each side's
// own instances once, and nothing of a copy comes back.
func TestRule1NoLoops(t *testing.T) {
	a, m := planes(t)
	register(t, a, app("orders", "orders-1"), app("orders", "orders-2"))
	register(t, m, app("pay", "pay-1"))
	s := run(t, config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)},
		registrysync.PairConfig{From: "a", To: "m", Direction: registrysync.Both}), registrysync.Options{})
	holds(t, a, within, "orders/orders-1", "orders/orders-2", "pay/pay-1<-m")
	holds(t, m, within, "pay/pay-1", "orders/orders-1<-a", "orders/orders-2<-a")
	// Churn on both sides: each change is copied once, the other way only.
	register(t, a, app("orders", "orders-3"))
	deregister(t, m, app("pay", "pay-1"))
	register(t, m, app("pay", "pay-2"))
	holds(t, a, within, "orders/orders-1", "orders/orders-2", "orders/orders-3", "pay/pay-2<-m")
	holds(t, m, within, "pay/pay-2", "orders/orders-1<-a", "orders/orders-2<-a", "orders/orders-3<-a")
	for _, f := range s.Status().Pairs {
		if len(f.Errors) > 0 {
			t.Errorf("%s -> %s: %v (a copy sent back where it came from)", f.From, f.To, f.Errors)
		}
	}
	// Every write was a first copy of an app's instance: 3 into m, 2 into a.
	s.caughtUp(t)
	if got := s.counter(t, "meshbridge_registrysync_writes_total", nil); got != 5 {
		t.Errorf("%v writes, want 5 (one per app instance)", got)
	}
}

// Rule 2: only the syncer's own copies are deleted, and only once the
// source was listed completely.
func TestRule2DeletesOnlyOwnCopiesAfterACompleteListing(t *testing.T) {
	a, m := planes(t)
	register(t, a, app("orders", "orders-1"))
	native := app("orders", "native-1")
	foreign := meshCopy(app("orders", "foreign-1"), "a", "another-syncer")
	stale := meshCopy(app("orders", "stale-1"), "a", "syncer-1") // ours, its instance gone from a
	otherOrigin := meshCopy(app("orders", "legacy-1"), "elsewhere", "syncer-1")
	register(t, m, native, foreign, stale, otherOrigin)
	deleted := deletions(t, m)
	a.Stop() // the source cannot be listed yet
	s := run(t, config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)},
		registrysync.PairConfig{From: "a", To: "m"}), registrysync.Options{})
	time.Sleep(2 * time.Second) // nothing to wait for: nothing may happen
	if got := deleted(); len(got) > 0 {
		t.Fatalf("deleted %v before the source was listed", got)
	}
	if st := s.flow(t, "a", "m"); st.States["held"] != 0 || st.Copies != 0 {
		// Not listed yet either: the writer does not know what is held.
		t.Logf("status before the listing: %+v", st)
	}
	a.Restart()
	holds(t, m, within, "orders/native-1", "orders/foreign-1<-a", "orders/legacy-1<-elsewhere", "orders/orders-1<-a")
	deletedAlone(t, deleted, "orders/stale-1")
}

// Rule 3: while a source cannot be reached its copies stay, alive; when
// it returns the targets converge on it without duplicates.
func TestRule3FailStatic(t *testing.T) {
	a, m := planes(t)
	register(t, a, app("orders", "orders-1"), app("orders", "orders-2"))
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)}, registrysync.PairConfig{From: "a", To: "m"})
	cfg.Engine.RelistInterval, cfg.Engine.AntiEntropyInterval = 2*time.Second, time.Second // relists fail during the outage
	run(t, cfg, registrysync.Options{})
	holds(t, m, within, "orders/orders-1<-a", "orders/orders-2<-a")
	deleted := deletions(t, m)
	a.Stop()
	time.Sleep(3 * 4 * time.Second) // three of the copies' leases: they must be kept alive meanwhile
	if got := deleted(); len(got) > 0 {
		t.Fatalf("deleted %v while the source was away", got)
	}
	holds(t, m, time.Second, "orders/orders-1<-a", "orders/orders-2<-a")
	a.Restart()
	deregister(t, a, app("orders", "orders-1"))
	register(t, a, app("orders", "orders-3"))
	holds(t, m, within, "orders/orders-2<-a", "orders/orders-3<-a")
}

// Rule 4: a pass that would delete more than maxDeleteShare of a flow's
// copies deletes nothing; the breaker shows open until the condition
// passes or an operator releases it.
func TestRule4DeletionBreaker(t *testing.T) {
	a, m := planes(t)
	var apps []*registry.Instance
	for i := range 20 {
		apps = append(apps, app(fmt.Sprintf("svc-%02d", i), "i-1"))
	}
	register(t, a, apps...)
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)}, registrysync.PairConfig{From: "a", To: "m"})
	cfg.Engine.Breaker = registrysync.BreakerConfig{MaxDeleteShare: 0.3, MinDeletes: 0, Window: time.Minute}
	s := run(t, cfg, registrysync.Options{})
	poll.UntilNil(t, "20 copies", func() error {
		if n := len(holding(t, m)); n != 20 {
			return fmt.Errorf("%d copies", n)
		}
		return nil
	}, poll.Within(within))
	// Half the source goes (a namespace deleted by mistake, say).
	deregister(t, a, apps[:10]...)
	poll.UntilNil(t, "the breaker open", func() error {
		if st := s.flow(t, "a", "m"); !st.Breaker.Open {
			return fmt.Errorf("breaker %+v", st.Breaker)
		}
		return nil
	}, poll.Within(within))
	time.Sleep(time.Second) // nothing more may be deleted: nothing to wait for
	if n := len(holding(t, m)); n < 14 {
		t.Fatalf("%d copies left of 20: more than 30%% deleted with the breaker", n)
	}
	if s.counter(t, "meshbridge_registrysync_breaker_open", nil) != 1 || s.counter(t, "meshbridge_registrysync_breaker_trips_total", nil) != 1 {
		t.Fatal("the breaker's metrics do not show it open")
	}
	if st := s.flow(t, "a", "m"); st.States["held"] == 0 || !strings.Contains(st.Breaker.Reason, "exceed") {
		t.Fatalf("status %+v", st)
	}
	// An operator elsewhere cannot release it; one on the host can.
	h := s.Handler()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/breaker/release", nil)
	req.RemoteAddr = "192.0.2.7:4000"
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Fatalf("release from afar: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	req.RemoteAddr = "127.0.0.1:4000"
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"released": 1`) {
		t.Fatalf("release: %d %s", rec.Code, rec.Body)
	}
	poll.UntilNil(t, "10 copies after the release", func() error {
		if n := len(holding(t, m)); n != 10 {
			return fmt.Errorf("%d copies", n)
		}
		if s.flow(t, "a", "m").Breaker.Open {
			return fmt.Errorf("breaker still open")
		}
		return nil
	}, poll.Within(within))
}

// Rule 4, the condition passing: the instances come back, the breaker
// closes without anything deleted.
func TestRule4BreakerClosesWhenTheConditionPasses(t *testing.T) {
	a, m := planes(t)
	var apps []*registry.Instance
	for i := range 10 {
		apps = append(apps, app(fmt.Sprintf("svc-%02d", i), "i-1"))
	}
	register(t, a, apps...)
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)}, registrysync.PairConfig{From: "a", To: "m"})
	cfg.Engine.Breaker.MinDeletes = 0
	s := run(t, cfg, registrysync.Options{})
	poll.UntilNil(t, "10 copies", func() error {
		if n := len(holding(t, m)); n != 10 {
			return fmt.Errorf("%d copies", n)
		}
		return nil
	}, poll.Within(within))
	deleted := deletions(t, m)
	deregister(t, a, apps[3:]...)
	poll.UntilNil(t, "the breaker open", func() error {
		if !s.flow(t, "a", "m").Breaker.Open {
			return fmt.Errorf("closed")
		}
		return nil
	}, poll.Within(within))
	register(t, a, apps[3:]...)
	poll.UntilNil(t, "the breaker closed", func() error {
		if st := s.flow(t, "a", "m"); st.Breaker.Open || st.States["held"] > 0 {
			return fmt.Errorf("breaker %+v", st.Breaker)
		}
		return nil
	}, poll.Within(within))
	if got := len(deleted()); got > 3 {
		t.Fatalf("%d deletions; the breaker allows 3", got)
	}
}

// Rule 5: a periodic whole comparison repairs what the target lost
// behind the syncer's back, sooner than the sink's own renewals would
// notice (they come every 30s here).
func TestRule5AntiEntropyRepairsTheTarget(t *testing.T) {
	a, m := planes(t)
	register(t, a, app("orders", "orders-1"))
	regM := meshRegistry("m", m)
	regM.Settings.(*mesh.Config).RenewInterval, regM.Settings.(*mesh.Config).LeaseDuration = 30*time.Second, 90*time.Second
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), regM}, registrysync.PairConfig{From: "a", To: "m"})
	cfg.Engine.AntiEntropyInterval = time.Second
	run(t, cfg, registrysync.Options{})
	holds(t, m, within, "orders/orders-1<-a")
	if err := m.Client.Deregister(meshtest.Ctx(t), registry.NewInstanceKey("", "", "orders", "orders-1")); err != nil {
		t.Fatal(err)
	}
	holds(t, m, 5*time.Second, "orders/orders-1<-a")
}

// lossy is a mesh connector whose source misses the first change of the
// service "dropme" (a watch event lost), as a registry's watch can.
type lossy struct {
	registrysync.Connector
}

func (l lossy) Run(ctx context.Context, updates chan<- registrysync.Update) error {
	in := make(chan registrysync.Update)
	done := make(chan error, 1)
	go func() { done <- l.Connector.Run(ctx, in) }()
	for {
		select {
		case u := <-in:
			if !u.Complete && len(u.Groups) == 1 && u.Groups[0].Key.Service == "dropme" && lost.CompareAndSwap(false, true) {
				continue
			}
			select {
			case updates <- u:
			case <-ctx.Done():
			}
		case err := <-done:
			return err
		}
	}
}

var lost atomic.Bool

func init() {
	registrysync.Register(registrysync.Kind{
		Name: "lossy-mesh", NewConfig: func() registrysync.Config { return mesh.NewConfig() },
		New: func(cfg registrysync.Config, env registrysync.Env) (registrysync.Connector, error) {
			c, err := mesh.New(cfg.(*mesh.Config), env)
			return lossy{c}, err
		},
	})
}

// Rule 5, the source side: a change the source's watch missed is
// repaired by the next complete listing (relistInterval).
func TestRule5RelistRepairsAMissedEvent(t *testing.T) {
	a, m := planes(t)
	regA := meshRegistry("a", a)
	regA.Type = "lossy-mesh"
	cfg := config([]registrysync.RegistryConfig{regA, meshRegistry("m", m)}, registrysync.PairConfig{From: "a", To: "m"})
	cfg.Engine.AntiEntropyInterval, cfg.Engine.RelistInterval = time.Second, 2*time.Second
	run(t, cfg, registrysync.Options{})
	time.Sleep(500 * time.Millisecond) // the first listing; what follows is a change
	lost.Store(false)
	register(t, a, app("dropme", "d-1"))
	holds(t, m, 10*time.Second, "dropme/d-1<-a")
	if !lost.Load() {
		t.Fatal("the change was not lost: the test shows nothing")
	}
}

// Rule 7: a syncer that restarts deletes nothing until every source was
// listed completely again, and keeps the copies alive meanwhile.
func TestRule7RestartDeletesNothingUntilEverySourceIsListed(t *testing.T) {
	a, m := planes(t)
	b := meshtest.Start(t, meshtest.Options{Token: token})
	register(t, a, app("orders", "orders-1"), app("orders", "orders-2"))
	register(t, b, app("pay", "pay-1"))
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("b", b), meshRegistry("m", m)},
		registrysync.PairConfig{From: "a", To: "m"}, registrysync.PairConfig{From: "b", To: "m"})
	first := run(t, cfg, registrysync.Options{})
	holds(t, m, within, "orders/orders-1<-a", "orders/orders-2<-a", "pay/pay-1<-b")
	first.stop()
	// While the syncer is down, a instance leaves, and b goes away.
	deregister(t, a, app("orders", "orders-2"))
	b.Stop()
	deleted := deletions(t, m)
	second := run(t, cfg, registrysync.Options{})
	poll.UntilNil(t, "a listed again", func() error {
		for _, src := range second.Status().Sources {
			if src.Registry == "a" && !src.Complete {
				return fmt.Errorf("not yet")
			}
		}
		return nil
	}, poll.Within(within))
	time.Sleep(3 * 4 * time.Second) // three leases of the copies: nothing may go, by deletion or expiry
	if got := deleted(); len(got) > 0 {
		t.Fatalf("deleted %v before every source was listed again", got)
	}
	if st := second.flow(t, "a", "m"); st.States["held"] != 1 {
		t.Fatalf("a -> m: %+v; want orders-2's deletion held", st.States)
	}
	b.Restart()
	holds(t, m, within, "orders/orders-1<-a", "pay/pay-1<-b")
	deletedAlone(t, deleted, "orders/orders-2")
}

// Rule 7: an empty listing of a registry known to hold instances is an
// error, not "everything left" (a registry restarted empty, a wrong
// address); the copies stay, alive.
func TestRule7EmptyListingOfAKnownRegistryIsAnError(t *testing.T) {
	a, m := planes(t)
	empty := meshtest.Start(t, meshtest.Options{Token: token})
	register(t, a, app("orders", "orders-1"), app("orders", "orders-2"))
	regs := []registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)}
	cfg := config(regs, registrysync.PairConfig{From: "a", To: "m"})
	cfg.Engine.Breaker.MaxDeleteShare = 1 // off: the rule alone must hold
	first := run(t, cfg, registrysync.Options{})
	holds(t, m, within, "orders/orders-1<-a", "orders/orders-2<-a")
	first.stop()
	// The target cannot be listed at first either: the empty listing
	// comes before the syncer knows of any copy, and must wait for it.
	m.Stop()
	cfg.Registries = []registrysync.RegistryConfig{meshRegistry("a", empty), meshRegistry("m", m)}
	second := run(t, cfg, registrysync.Options{})
	time.Sleep(time.Second) // the empty listing arrives meanwhile: nothing to wait for
	m.Restart()
	deleted := deletions(t, m)
	poll.UntilNil(t, "the empty listing reported", func() error {
		for _, src := range second.Status().Sources {
			if src.Registry == "a" && strings.Contains(src.Error, "without any instance") {
				return nil
			}
		}
		return fmt.Errorf("sources %+v", second.Status().Sources)
	}, poll.Within(within))
	time.Sleep(3 * 4 * time.Second) // three leases: nothing may go, by deletion or expiry
	if got := deleted(); len(got) > 0 {
		t.Fatalf("deleted %v on an empty listing", got)
	}
	holds(t, m, time.Second, "orders/orders-1<-a", "orders/orders-2<-a")
	if second.counter(t, "meshbridge_registrysync_errors_total", map[string]string{"registry": "a", "op": "list"}) == 0 {
		t.Fatal("no error counted for the empty listing")
	}
}
