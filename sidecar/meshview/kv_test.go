package meshview_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/storetest"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
)

func kvSetup(t *testing.T, c *control.Client) *meshview.View {
	t.Helper()
	first := loopback.Port(t, 10)
	alloc := meshview.NewAllocator("127.0.0.1", first, first+10, serviceEcho, slog.New(slog.DiscardHandler))
	v := meshview.New(meshview.Options{Upstream: c, Allocator: alloc, IngressHost: "10.1.2.3", IngressPort: 15006,
		KVWait: time.Second, KVMaxBackoff: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); v.RunKV(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = v.Close()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		alloc.Shutdown(sctx)
	})
	return v
}

func next(t *testing.T, w registry.Watcher) registry.Event { return storetest.Receive(t, w, 1)[0] }

// Reads, writes, compare-and-set and deletes go to the control plane; the
// revisions the view gives out are its own and work for compare-and-set.
func TestKVThroughView(t *testing.T) {
	v, _, _, _ := setup(t)
	a, err := v.PutKV(ctx(t), &registry.KV{Key: "config/app/a", Value: []byte("1"), Flags: 42}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Flags != 42 || a.CreateRevision != a.Revision {
		t.Fatalf("put = %+v", a)
	}
	if _, err := v.PutKV(ctx(t), &registry.KV{Key: "config/app/a", Value: []byte("x")}, 0); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("create-only over a key: %v", err)
	}
	got, err := v.GetKV(ctx(t), "config/app/a")
	if err != nil || got.Revision != a.Revision || got.Flags != 42 {
		t.Fatalf("get = %+v, %v; want revision %d", got, err, a.Revision)
	}
	b, err := v.PutKV(ctx(t), &registry.KV{Key: "config/app/a", Value: []byte("2")}, got.Revision)
	if err != nil || b.Revision <= a.Revision || b.CreateRevision != a.CreateRevision {
		t.Fatalf("cas put = %+v, %v", b, err)
	}
	for _, stale := range []int64{a.Revision, a.Revision + 1, 3} {
		if _, err := v.PutKV(ctx(t), &registry.KV{Key: "config/app/a", Value: []byte("x")}, stale); !errors.Is(err, registry.ErrConflict) {
			t.Errorf("cas put at %d: %v; want a conflict", stale, err)
		}
	}
	if _, err := v.PutKV(ctx(t), &registry.KV{Key: "config/app/b", Value: []byte("b")}, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := v.PutKV(ctx(t), &registry.KV{Key: "config/other", Value: []byte("o")}, -1); err != nil {
		t.Fatal(err)
	}
	list, rev, err := v.ListKV(ctx(t), "config/app/")
	if err != nil || len(list) != 2 || list[0].Key != "config/app/a" || list[0].Revision != b.Revision || rev < b.Revision {
		t.Fatalf("list = %+v at %d, %v", list, rev, err)
	}
	if _, err := v.DeleteKV(ctx(t), "config/app/a", a.Revision); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale cas delete: %v", err)
	}
	old, err := v.DeleteKV(ctx(t), "config/app/a", b.Revision)
	if err != nil || string(old.Value) != "2" || old.Revision != b.Revision {
		t.Fatalf("cas delete = %+v, %v", old, err)
	}
	if n, err := v.DeleteKVPrefix(ctx(t), "config/"); err != nil || n != 2 {
		t.Fatalf("delete prefix = %d, %v; want 2", n, err)
	}
	if _, err := v.GetKV(ctx(t), "config/other"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	if _, err := v.DeleteKV(ctx(t), "config/other", -1); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if _, err := v.PutKV(ctx(t), &registry.KV{Key: "", Value: []byte("x")}, -1); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("empty key: %v", err)
	}
}

// Changes made at the control plane by anyone reach the view's watchers,
// in one revision order with the view's own changes, carrying the same
// revisions the view's reads give out.
func TestKVChangesReachWatchers(t *testing.T) {
	c := startControl(t)
	v := kvSetup(t, c)
	w, err := v.Watch(ctx(t), 0, registry.WatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// Give the feed its starting point, then change a key elsewhere.
	waitFeed(t, v, c)
	if _, err := c.PutKV(ctx(t), &registry.KV{Key: "cfg/a", Value: []byte("1")}, -1); err != nil {
		t.Fatal(err)
	}
	put := drainTo(t, w, "cfg/a")
	got, err := v.GetKV(ctx(t), "cfg/a")
	if err != nil || put.Type != registry.EventPut || put.KV.Revision != got.Revision || put.Revision != got.Revision {
		t.Fatalf("event %+v (kv %+v); view reads revision %d, %v", put, put.KV, got.Revision, err)
	}
	// A change of the view's own comes after it, a later key change after that.
	app, err := v.Register(ctx(t), &registry.Instance{ID: "shop-1", Service: "shop", Host: "127.0.0.1", Port: 8080})
	if err != nil {
		t.Fatal(err)
	}
	if e := next(t, w); e.Kind != registry.KindInstance || e.Revision <= put.Revision || e.Revision != app.Revision {
		t.Fatalf("instance event %+v after KV revision %d", e, put.Revision)
	}
	if _, err := c.DeleteKV(ctx(t), "cfg/a", -1); err != nil {
		t.Fatal(err)
	}
	del := drainTo(t, w, "cfg/a")
	if del.Type != registry.EventDelete || del.Revision <= app.Revision || string(del.KV.Value) != "1" {
		t.Fatalf("delete event %+v after instance revision %d", del, app.Revision)
	}
}

// waitFeed waits until the view follows the control plane: a probe key
// written upstream comes back as an event.
func waitFeed(t *testing.T, v *meshview.View, c *control.Client) {
	t.Helper()
	w, err := v.Watch(ctx(t), 0, registry.WatchFilter{KeyPrefix: "probe/"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		if _, err := c.PutKV(ctx(t), &registry.KV{Key: "probe/x", Value: []byte{byte(i)}}, -1); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w.Events():
			return
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("the view never followed the control plane's KV changes")
		}
	}
}

// drainTo returns the next event about key, skipping probes.
func drainTo(t *testing.T, w registry.Watcher, key string) registry.Event {
	t.Helper()
	for {
		e := next(t, w)
		if e.Kind == registry.KindKV && e.KV.Key == key {
			return e
		}
	}
}

// A control plane that restarts over its store is followed again from
// where the view left off: a watch on the view survives and sees the next
// change. One that comes back with a new store (revisions start again)
// ends the view's watches, so front-ends read again, and later changes
// still translate above everything the view gave out before.
func TestKVFeedAcrossControlPlaneRestarts(t *testing.T) {
	cp := startRestartable(t, loopback.Addr(t))
	c, err := control.NewClient("http://"+cp.addr, control.WithLogger(slog.New(slog.DiscardHandler)), control.WithRetries(1, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	v := kvSetup(t, c)
	waitFeed(t, v, c)
	w, err := v.Watch(ctx(t), 0, registry.WatchFilter{KeyPrefix: "cfg/"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := c.PutKV(ctx(t), &registry.KV{Key: "cfg/a", Value: []byte("before")}, -1); err != nil {
		t.Fatal(err)
	}
	before := next(t, w)

	cp.stop()
	cp.start()
	if _, err := c.PutKV(ctx(t), &registry.KV{Key: "cfg/a", Value: []byte("after restart")}, -1); err != nil {
		t.Fatal(err)
	}
	after := next(t, w)
	if string(after.KV.Value) != "after restart" || after.Revision <= before.Revision {
		t.Fatalf("after restart: %+v (before at %d)", after, before.Revision)
	}

	cp.stop()
	cp.dir = t.TempDir() // a new, empty store
	cp.start()
	select {
	case e, ok := <-w.Events():
		if ok {
			t.Fatalf("event %+v from a store that started again; want the watch ended", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the view's watch survived a control plane whose revisions went back")
	}
	if !errors.Is(w.Err(), registry.ErrCompacted) {
		t.Fatalf("watch ended with %v; want ErrCompacted (read again)", w.Err())
	}
	w2, err := v.Watch(ctx(t), v.Revision(), registry.WatchFilter{KeyPrefix: "cfg/"})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	fresh, err := v.PutKV(ctx(t), &registry.KV{Key: "cfg/a", Value: []byte("new store")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	e := next(t, w2)
	if string(e.KV.Value) != "new store" || e.Revision != fresh.Revision || fresh.Revision <= after.Revision {
		t.Fatalf("new store: event %+v, put at %d; want it above %d", e, fresh.Revision, after.Revision)
	}
	// A compare-and-set with what the view gave out before the new store cannot match.
	if _, err := v.PutKV(ctx(t), &registry.KV{Key: "cfg/a", Value: []byte("x")}, after.Revision); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("cas with a pre-reset revision: %v", err)
	}
}
