package embedded

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/storetest"
)

// clock is a manual clock for expiry tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func expiringStore(t *testing.T, c *clock, grace time.Duration, minLeases int) *Store {
	return openTest(t, t.TempDir(), func(o *Options) {
		o.Now = c.Now
		o.Expiry = ExpiryOptions{Interval: time.Hour, StartupGrace: grace, SelfPreservationMinLeases: minLeases}
	})
}

func leased(svc, id string, d time.Duration) *registry.Instance {
	in := storetest.Instance(svc, id)
	in.Lease.Duration = d
	return in
}

func TestExpiryRemovesLapsedLeases(t *testing.T) {
	c := &clock{now: time.Unix(1_000_000, 0)}
	s := expiringStore(t, c, -1, 10)
	defer s.Close()
	ctx := bg(t)
	w, _ := s.Watch(ctx, 0, registry.WatchFilter{})
	defer w.Stop()
	keep, _ := s.Register(ctx, leased("orders", "keep", 10*time.Second))
	gone, _ := s.Register(ctx, leased("orders", "gone", 10*time.Second))
	persistent := storetest.Instance("orders", "persistent")
	persistent.Ephemeral = false
	s.Register(ctx, persistent)
	c.Advance(8 * time.Second)
	if err := s.Renew(ctx, keep.Key()); err != nil {
		t.Fatal(err)
	}
	c.Advance(5 * time.Second) // gone: 13 s since renewal; keep: 5 s
	s.expireOnce()
	if _, err := s.Get(ctx, gone.Key()); err == nil {
		t.Fatal("lapsed instance not expired")
	}
	for _, k := range []registry.InstanceKey{keep.Key(), registry.NewInstanceKey("", "", "orders", "persistent")} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("%s expired wrongly: %v", k.ID, err)
		}
	}
	// The delete is an event with the expiry reason.
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-w.Events():
			if e.Type == registry.EventDelete {
				if e.Reason != registry.ReasonExpired || e.Instance.ID != "gone" {
					t.Fatalf("delete event %+v", e)
				}
				return
			}
		case <-deadline:
			t.Fatal("no expiry event")
		}
	}
}

func TestStartupGraceDelaysExpiry(t *testing.T) {
	c := &clock{now: time.Unix(1_000_000, 0)}
	s := expiringStore(t, c, time.Minute, 10)
	defer s.Close()
	ctx := bg(t)
	in, _ := s.Register(ctx, leased("orders", "a", 5*time.Second))
	c.Advance(30 * time.Second)
	s.expireOnce()
	if _, err := s.Get(ctx, in.Key()); err != nil {
		t.Fatal("expired during the startup grace window")
	}
	c.Advance(31 * time.Second)
	s.expireOnce()
	if _, err := s.Get(ctx, in.Key()); err == nil {
		t.Fatal("not expired after the grace window")
	}
}

func TestSelfPreservationPausesMassExpiry(t *testing.T) {
	c := &clock{now: time.Unix(1_000_000, 0)}
	s := expiringStore(t, c, -1, 10)
	defer s.Close()
	ctx := bg(t)
	var keys []registry.InstanceKey
	for i := range 20 {
		in, err := s.Register(ctx, leased("orders", fmt.Sprint("o-", i), 10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, in.Key())
	}
	// 2 of 20 (10%) lapse: under the 15% threshold, they expire.
	c.Advance(11 * time.Second)
	for _, k := range keys[2:] {
		s.Renew(ctx, k)
	}
	s.expireOnce()
	if s.SelfPreserving() {
		t.Fatal("self-preservation engaged at 10%")
	}
	if list, _, _ := s.List(ctx, registry.Filter{}); len(list) != 18 {
		t.Fatalf("%d left, want 18", len(list))
	}
	// Then all 18 lapse at once (a network partition, say): expiry pauses.
	c.Advance(11 * time.Second)
	s.expireOnce()
	if !s.SelfPreserving() {
		t.Fatal("self-preservation did not engage")
	}
	if list, _, _ := s.List(ctx, registry.Filter{}); len(list) != 18 {
		t.Fatalf("%d left during self-preservation, want 18", len(list))
	}
	// Renewals resume; the one that stays silent expires once the share is low.
	for _, k := range keys[3:] {
		s.Renew(ctx, k)
	}
	s.expireOnce()
	if s.SelfPreserving() {
		t.Fatal("self-preservation did not end")
	}
	if list, _, _ := s.List(ctx, registry.Filter{}); len(list) != 17 {
		t.Fatalf("%d left, want 17", len(list))
	}
}

func TestSmallRegistriesStillExpire(t *testing.T) {
	c := &clock{now: time.Unix(1_000_000, 0)}
	s := expiringStore(t, c, -1, 10)
	defer s.Close()
	ctx := bg(t)
	for i := range 3 {
		s.Register(ctx, leased("orders", fmt.Sprint("o-", i), 10*time.Second))
	}
	c.Advance(11 * time.Second)
	s.expireOnce()
	if list, _, _ := s.List(ctx, registry.Filter{}); len(list) != 0 || s.SelfPreserving() {
		t.Fatalf("%d left in a 3-instance registry (self-preserving %v)", len(list), s.SelfPreserving())
	}
}
