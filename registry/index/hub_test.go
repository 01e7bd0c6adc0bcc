package index

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

func kvEvent(rev int64) registry.Event {
	return registry.Event{Revision: rev, Type: registry.EventPut, Kind: registry.KindKV, KV: &registry.KV{Key: "k"}}
}

func next(t *testing.T, w registry.Watcher) registry.Event {
	t.Helper()
	select {
	case e, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return registry.Event{}
}

func TestHubRingWrapsAndReportsCompaction(t *testing.T) {
	h := NewHub(4, 10)
	for rev := int64(11); rev <= 16; rev++ {
		h.Publish(kvEvent(rev))
	}
	// Ring holds 13..16; resuming from 12 is fine, from 11 is compacted.
	w, err := h.Watch(context.Background(), 12, registry.WatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for want := int64(13); want <= 16; want++ {
		if e := next(t, w); e.Revision != want {
			t.Fatalf("got %d, want %d", e.Revision, want)
		}
	}
	_, err = h.Watch(context.Background(), 11, registry.WatchFilter{})
	var ce *registry.CompactedError
	if !errors.As(err, &ce) || ce.Oldest != 13 {
		t.Fatalf("watch from 11: %v", err)
	}
}

func TestSlowWatcherEndsCompactedInsteadOfSkipping(t *testing.T) {
	h := NewHub(8, 0)
	w, err := h.Watch(context.Background(), 0, registry.WatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// Publish far more than the ring plus the channel buffer without reading.
	for rev := int64(1); rev <= 200; rev++ {
		h.Publish(kvEvent(rev))
	}
	var last int64
	for e := range w.Events() {
		if e.Revision != last+1 {
			t.Fatalf("skipped from %d to %d", last, e.Revision)
		}
		last = e.Revision
	}
	if !errors.Is(w.Err(), registry.ErrCompacted) {
		t.Fatalf("slow watcher ended with %v after %d", w.Err(), last)
	}
}

func TestResetAndWaitFor(t *testing.T) {
	h := NewHub(8, 5)
	w, _ := h.Watch(context.Background(), 5, registry.WatchFilter{})
	defer w.Stop()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- h.WaitFor(ctx, 7)
	}()
	h.Publish(kvEvent(6))
	h.Reset(20) // the etcd store lost its watch and listed again at 20
	if err := <-done; err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	for range w.Events() {
	}
	if !errors.Is(w.Err(), registry.ErrCompacted) {
		t.Fatalf("watcher after reset: %v", w.Err())
	}
	if h.Last() != 20 {
		t.Fatalf("last %d", h.Last())
	}
	h.Close()
	if err := h.WaitFor(context.Background(), 100); !errors.Is(err, registry.ErrClosed) {
		t.Fatalf("WaitFor on a closed hub: %v", err)
	}
}

func TestProgressCoversSkippedEvents(t *testing.T) {
	h := NewHub(16, 0)
	sid := registry.ServiceID{Namespace: "public", Group: "G", ServiceKey: "orders"}
	w, _ := h.Watch(context.Background(), 0, registry.WatchFilter{Service: &sid})
	h.Publish(kvEvent(1), kvEvent(2), kvEvent(3))
	poll.UntilNil(t, "progress past the three skipped events", func() error {
		if p := w.Progress(); p < 3 {
			return fmt.Errorf("progress %d", p)
		}
		return nil
	}, poll.Within(5*time.Second))
	w.Stop()
	if len(w.Events()) != 0 {
		t.Fatal("filtered events were delivered")
	}
}
