package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Factory returns a fresh, empty store; the suite closes it.
type Factory func(t *testing.T) registry.Store

// Run runs the whole conformance suite.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s registry.Store)
	}{
		{"RegisterGetList", testRegisterGetList},
		{"RegisterIsIdempotentUpsert", testUpsert},
		{"CanonicalServiceKey", testCanonicalKey},
		{"InvalidInstanceChangesNothing", testInvalidInstance},
		{"DeregisterAndNotFound", testDeregister},
		{"RenewUnknownIsNotFound", testRenew},
		{"StatusOverride", testStatusOverride},
		{"Update", testUpdate},
		{"ListFilters", testListFilters},
		{"Services", testServices},
		{"ResourcesCompareAndSet", testResources},
		{"KV", testKV},
		{"WatchOrderedAndResumable", testWatch},
		{"WatchFilter", testWatchFilter},
		{"ConcurrentWritersGetDistinctRevisions", testConcurrentRevisions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			defer s.Close()
			runCase(t, s, tc.fn)
		})
	}
}

// Instance returns a valid test instance of service svc with id id.
func Instance(svc, id string) *registry.Instance {
	return &registry.Instance{
		ID: id, Service: svc, Host: "10.0.0.1", Port: 8080,
		Metadata:  map[string]string{"version": "v1"},
		Ephemeral: true, Lease: registry.Lease{RenewalInterval: 30 * time.Second, Duration: 90 * time.Second},
		Origin: registry.OriginControl,
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// failure carries an unexpected error from must to the recover in Run, so
// the suite reads as straight-line code.
type failure struct{ err error }

func must[T any](v T, err error) T {
	if err != nil {
		panic(failure{err})
	}
	return v
}

func runCase(t *testing.T, s registry.Store, fn func(t *testing.T, s registry.Store)) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			t.Fatalf("unexpected error: %v", f.err)
		}
	}()
	fn(t, s)
}

func testRegisterGetList(t *testing.T, s registry.Store) {
	c := ctx(t)
	before := s.Revision()
	got := must(s.Register(c, Instance("orders", "o-1")))
	if got.Revision <= before {
		t.Fatalf("revision %d not after %d", got.Revision, before)
	}
	if got.Namespace != registry.DefaultNamespace || got.Group != registry.DefaultGroup || got.Status != registry.StatusUp {
		t.Fatalf("defaults not applied: %+v", got)
	}
	if got.Labels["version"] != "v1" {
		t.Fatalf("label not derived from metadata: %v", got.Labels)
	}
	if got.Registered.IsZero() || got.Lease.LastRenewal.IsZero() {
		t.Fatalf("times not stamped: %+v", got)
	}
	one := must(s.Get(c, got.Key()))
	if one.Host != "10.0.0.1" || one.Port != 8080 || one.Revision != got.Revision {
		t.Fatalf("get = %+v", one)
	}
	list, rev, err := s.List(c, registry.Filter{Service: "orders"})
	if err != nil || len(list) != 1 || rev < got.Revision {
		t.Fatalf("list = %v rev %d err %v", list, rev, err)
	}
	// Returned objects are copies.
	list[0].Metadata["version"] = "mutated"
	if again := must(s.Get(c, got.Key())); again.Metadata["version"] != "v1" {
		t.Fatal("store shares memory with callers")
	}
}

func testUpsert(t *testing.T, s registry.Store) {
	c := ctx(t)
	first := must(s.Register(c, Instance("orders", "o-1")))
	in := Instance("orders", "o-1")
	in.Port = 9090
	second := must(s.Register(c, in))
	if second.Revision <= first.Revision || second.Port != 9090 {
		t.Fatalf("second register = %+v", second)
	}
	if !second.Registered.Equal(first.Registered) {
		t.Fatalf("registration time changed on upsert: %v vs %v", first.Registered, second.Registered)
	}
	list, _, _ := s.List(c, registry.Filter{})
	if len(list) != 1 {
		t.Fatalf("upsert created %d instances", len(list))
	}
}

func testCanonicalKey(t *testing.T, s registry.Store) {
	c := ctx(t)
	must(s.Register(c, Instance("ORDERS", "a")))
	must(s.Register(c, Instance("orders", "b")))
	list, _, _ := s.List(c, registry.Filter{Service: "Orders"})
	if len(list) != 2 {
		t.Fatalf("names in different case did not meet: %d", len(list))
	}
	svcs, _, _ := s.Services(c, "")
	if len(svcs) != 1 || svcs[0].Instances != 2 {
		t.Fatalf("services = %+v", svcs)
	}
}

func testInvalidInstance(t *testing.T, s registry.Store) {
	c := ctx(t)
	before := s.Revision()
	bad := []*registry.Instance{
		nil,
		{Service: "orders", Host: "h"}, // no id
		{ID: "x", Host: "h"},           // no service
		{ID: "x", Service: "orders"},   // no host
		{ID: "x", Service: "orders", Host: "h", Port: 70000},        // bad port
		{ID: "a/b", Service: "orders", Host: "h"},                   // slash in id
		{ID: "x", Service: "orders", Host: "h", Status: "SLEEPING"}, // bad status
		// What some view could not carry.
		{ID: "..", Service: "orders", Host: "h"},                                                       // a dot segment as id
		{ID: "x", Service: "grp@@svc", Host: "h"},                                                      // Nacos's group separator
		{ID: "x", Service: "orders\uFFFE", Host: "h"},                                                  // a non-character
		{ID: "x", Service: "orders", Host: "h\r\nX-Injected: 1"},                                       // not a host
		{ID: "x", Service: "orders", Host: "h", Metadata: map[string]string{"k": "v\x01"}},             // XML 1.0 forbids U+0001
		{ID: "x", Service: "orders", Host: "h", Attributes: map[string]string{"eureka.sid": "\uFFFF"}}, // nor U+FFFF
	}
	for n, in := range bad {
		if _, err := s.Register(c, in); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("case %d: err = %v, want ErrInvalid", n, err)
		}
	}
	list, _, _ := s.List(c, registry.Filter{})
	if len(list) != 0 || s.Revision() != before {
		t.Fatalf("invalid input changed the store: %d instances, revision %d -> %d", len(list), before, s.Revision())
	}
}

func testDeregister(t *testing.T, s registry.Store) {
	c := ctx(t)
	got := must(s.Register(c, Instance("orders", "o-1")))
	gone := must(s.Deregister(c, got.Key()))
	if gone.ID != "o-1" {
		t.Fatalf("deregister returned %+v", gone)
	}
	if _, err := s.Get(c, got.Key()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("get after deregister: %v", err)
	}
	if _, err := s.Deregister(c, got.Key()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("second deregister: %v", err)
	}
}

func testRenew(t *testing.T, s registry.Store) {
	c := ctx(t)
	got := must(s.Register(c, Instance("orders", "o-1")))
	rev := s.Revision()
	if err := s.Renew(c, got.Key()); err != nil {
		t.Fatalf("renew: %v", err)
	}
	if s.Revision() != rev {
		t.Fatalf("renew created a revision: %d -> %d", rev, s.Revision())
	}
	err := s.Renew(c, registry.NewInstanceKey("", "", "orders", "nope"))
	if !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("renew unknown: %v, want ErrNotFound", err)
	}
}

func testStatusOverride(t *testing.T, s registry.Store) {
	c := ctx(t)
	got := must(s.Register(c, Instance("orders", "o-1")))
	over := must(s.SetStatusOverride(c, got.Key(), registry.StatusOutOfService))
	if over.EffectiveStatus() != registry.StatusOutOfService || over.Healthy() {
		t.Fatalf("override not effective: %+v", over)
	}
	// Re-registration keeps the override, as Eureka does.
	again := must(s.Register(c, Instance("orders", "o-1")))
	if again.OverriddenStatus != registry.StatusOutOfService {
		t.Fatalf("override lost on re-register: %+v", again)
	}
	cleared := must(s.ClearStatusOverride(c, got.Key()))
	if cleared.OverriddenStatus != "" || cleared.EffectiveStatus() != registry.StatusUp {
		t.Fatalf("override not cleared: %+v", cleared)
	}
	if _, err := s.SetStatusOverride(c, got.Key(), "BOGUS"); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := s.SetStatusOverride(c, registry.NewInstanceKey("", "", "orders", "nope"), registry.StatusDown); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("override unknown: %v", err)
	}
}

func testUpdate(t *testing.T, s registry.Store) {
	c := ctx(t)
	got := must(s.Register(c, Instance("orders", "o-1")))
	up := must(s.Update(c, got.Key(), func(i *registry.Instance) error {
		i.Health = registry.HealthCritical
		i.Metadata["zone"] = "eu-1"
		return nil
	}))
	if up.Health != registry.HealthCritical || up.Revision <= got.Revision || up.Healthy() {
		t.Fatalf("update = %+v", up)
	}
	if _, err := s.Update(c, got.Key(), func(i *registry.Instance) error { i.ID = "other"; return nil }); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("identity change: %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.Update(c, got.Key(), func(i *registry.Instance) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	if cur := must(s.Get(c, got.Key())); cur.Revision != up.Revision {
		t.Fatalf("failed update changed the instance: %+v", cur)
	}
}

func testListFilters(t *testing.T, s registry.Store) {
	c := ctx(t)
	a := Instance("orders", "a")
	b := Instance("orders", "b")
	b.Metadata = map[string]string{"version": "v2"}
	b.Namespace = "dev"
	d := Instance("orders", "d")
	d.Status = registry.StatusDown
	e := Instance("payments", "e")
	e.Group = "PAY"
	for _, in := range []*registry.Instance{a, b, d, e} {
		must(s.Register(c, in))
	}
	cases := []struct {
		f    registry.Filter
		want int
	}{
		{registry.Filter{}, 4},
		{registry.Filter{Service: "orders"}, 3},
		{registry.Filter{Namespace: "dev"}, 1},
		{registry.Filter{Group: "PAY"}, 1},
		{registry.Filter{Labels: map[string]string{"version": "v2"}}, 1},
		{registry.Filter{Service: "orders", HealthyOnly: true}, 2},
		{registry.Filter{Service: "orders", Namespace: "public", Group: registry.DefaultGroup}, 2},
		{registry.Filter{ID: "e"}, 1},
	}
	for _, tc := range cases {
		got, _, err := s.List(c, tc.f)
		if err != nil || len(got) != tc.want {
			t.Errorf("filter %+v: got %d (%v), want %d", tc.f, len(got), err, tc.want)
		}
	}
}

func testServices(t *testing.T, s registry.Store) {
	c := ctx(t)
	must(s.Register(c, Instance("orders", "a")))
	d := Instance("orders", "b")
	d.Status = registry.StatusDown
	must(s.Register(c, d))
	must(s.Register(c, Instance("payments", "p")))
	svcs, _, err := s.Services(c, registry.DefaultNamespace)
	if err != nil || len(svcs) != 2 {
		t.Fatalf("services = %+v, %v", svcs, err)
	}
	if svcs[0].ServiceKey != "orders" || svcs[0].Instances != 2 || svcs[0].Healthy != 1 {
		t.Fatalf("orders summary = %+v", svcs[0])
	}
	if none, _, _ := s.Services(c, "other"); len(none) != 0 {
		t.Fatalf("other namespace = %+v", none)
	}
}

func testResources(t *testing.T, s registry.Store) {
	c := ctx(t)
	r := &registry.Resource{Kind: "CanaryRule", Name: "orders-canary", Spec: json.RawMessage(`{"service":"orders"}`)}
	created := must(s.PutResource(c, r, 0))
	if _, err := s.PutResource(c, r, 0); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("create-only on existing: %v", err)
	}
	if _, err := s.PutResource(c, r, created.Revision+100); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale CAS: %v", err)
	}
	r.Spec = json.RawMessage(`{"service":"orders","priority":2}`)
	updated := must(s.PutResource(c, r, created.Revision))
	if updated.Revision <= created.Revision || !updated.Created.Equal(created.Created) {
		t.Fatalf("update = %+v", updated)
	}
	must(s.PutResource(c, &registry.Resource{Kind: "TrafficSplit", Name: "x", Spec: json.RawMessage(`{}`)}, -1))
	list, _, _ := s.ListResources(c, "CanaryRule")
	if len(list) != 1 || string(list[0].Spec) != `{"service":"orders","priority":2}` {
		t.Fatalf("list = %+v", list)
	}
	all, _, _ := s.ListResources(c, "")
	if len(all) != 2 {
		t.Fatalf("all = %d", len(all))
	}
	if _, err := s.PutResource(c, &registry.Resource{Kind: "CanaryRule", Name: "bad", Spec: json.RawMessage(`{nope`)}, -1); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("invalid spec: %v", err)
	}
	if _, err := s.DeleteResource(c, created.Key(), created.Revision); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("delete with stale revision: %v", err)
	}
	must(s.DeleteResource(c, created.Key(), updated.Revision))
	if _, err := s.GetResource(c, created.Key()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
}

func testKV(t *testing.T, s registry.Store) {
	c := ctx(t)
	a := must(s.PutKV(c, &registry.KV{Key: "config/app/a", Value: []byte("1"), Flags: 7}, -1))
	if a.CreateRevision != a.Revision {
		t.Fatalf("create revision %d != %d", a.CreateRevision, a.Revision)
	}
	a2 := must(s.PutKV(c, &registry.KV{Key: "config/app/a", Value: []byte("2")}, a.Revision))
	if a2.CreateRevision != a.CreateRevision || string(a2.Value) != "2" {
		t.Fatalf("cas update = %+v", a2)
	}
	if _, err := s.PutKV(c, &registry.KV{Key: "config/app/a", Value: []byte("3")}, a.Revision); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale cas: %v", err)
	}
	must(s.PutKV(c, &registry.KV{Key: "config/app/b", Value: []byte("b")}, 0))
	must(s.PutKV(c, &registry.KV{Key: "config/other", Value: []byte("o")}, 0))
	list, _, _ := s.ListKV(c, "config/app/")
	if len(list) != 2 || list[0].Key != "config/app/a" {
		t.Fatalf("list = %+v", list)
	}
	if got := must(s.GetKV(c, "config/app/a")); string(got.Value) != "2" || got.Flags != 0 {
		t.Fatalf("get = %+v", got)
	}
	n := must(s.DeleteKVPrefix(c, "config/app/"))
	if n != 2 {
		t.Fatalf("deleted %d", n)
	}
	if _, err := s.GetKV(c, "config/app/b"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	must(s.DeleteKV(c, "config/other", -1))
	if _, err := s.DeleteKV(c, "config/other", -1); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if _, err := s.PutKV(c, &registry.KV{Key: "", Value: []byte("x")}, -1); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("empty key: %v", err)
	}
}

// Receive reads n events from w or fails the test after 10 s.
func Receive(t *testing.T, w registry.Watcher, n int) []registry.Event {
	t.Helper()
	var out []registry.Event
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case e, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch ended after %d events: %v", len(out), w.Err())
			}
			out = append(out, e)
		case <-timeout:
			t.Fatalf("got %d of %d events", len(out), n)
		}
	}
	return out
}

func testWatch(t *testing.T, s registry.Store) {
	c := ctx(t)
	start := s.Revision()
	if start <= 0 {
		t.Fatalf("revision of a fresh store is %d; it must start above 0 so 0 can mean \"now\"", start)
	}
	w := must(s.Watch(c, 0, registry.WatchFilter{}))
	defer w.Stop()
	a := must(s.Register(c, Instance("orders", "a")))
	must(s.SetStatusOverride(c, a.Key(), registry.StatusDown))
	must(s.PutResource(c, &registry.Resource{Kind: "K", Name: "n", Spec: json.RawMessage(`1`)}, -1))
	must(s.Deregister(c, a.Key()))
	events := Receive(t, w, 4)
	var last int64
	for i, e := range events {
		if e.Revision <= last {
			t.Fatalf("event %d revision %d not after %d", i, e.Revision, last)
		}
		last = e.Revision
	}
	if events[0].Type != registry.EventPut || events[0].Kind != registry.KindInstance || events[0].Instance.ID != "a" {
		t.Fatalf("first event = %+v", events[0])
	}
	if events[3].Type != registry.EventDelete || events[3].Instance.ID != "a" {
		t.Fatalf("last event = %+v", events[3])
	}
	// Resume from the middle: the same tail comes again.
	w2 := must(s.Watch(c, events[1].Revision, registry.WatchFilter{}))
	defer w2.Stop()
	tail := Receive(t, w2, 2)
	if tail[0].Revision != events[2].Revision || tail[1].Revision != events[3].Revision {
		t.Fatalf("resume got %d,%d want %d,%d", tail[0].Revision, tail[1].Revision, events[2].Revision, events[3].Revision)
	}
	// Resume from before everything we did also works (start is retained).
	w3 := must(s.Watch(c, start, registry.WatchFilter{}))
	defer w3.Stop()
	if got := Receive(t, w3, 4); got[0].Revision != events[0].Revision {
		t.Fatalf("resume from start got %d", got[0].Revision)
	}
	// Stopping closes the channel.
	w.Stop()
	select {
	case _, ok := <-w.Events():
		for ok {
			_, ok = <-w.Events()
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stopped watch did not close")
	}
}

func testWatchFilter(t *testing.T, s registry.Store) {
	c := ctx(t)
	sid := registry.ServiceID{Namespace: registry.DefaultNamespace, Group: registry.DefaultGroup, ServiceKey: "orders"}
	w := must(s.Watch(c, 0, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}, Service: &sid}))
	defer w.Stop()
	must(s.Register(c, Instance("payments", "p")))
	must(s.PutKV(c, &registry.KV{Key: "k", Value: []byte("v")}, -1))
	must(s.Register(c, Instance("Orders", "o")))
	got := Receive(t, w, 1)
	if got[0].Instance.ServiceKey != "orders" {
		t.Fatalf("filter passed %+v", got[0])
	}
}

func testConcurrentRevisions(t *testing.T, s registry.Store) {
	c := ctx(t)
	const writers, each = 8, 25
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				got, err := s.Register(c, Instance("svc", fmt.Sprintf("w%d-%d", w, i)))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if seen[got.Revision] {
					errs <- fmt.Errorf("revision %d given twice", got.Revision)
				}
				seen[got.Revision] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	list, _, _ := s.List(c, registry.Filter{Service: "svc"})
	if len(list) != writers*each {
		t.Fatalf("stored %d of %d", len(list), writers*each)
	}
}
