package embedded

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/meshbridge/meshbridge/registry"
)

// A watcher that reads the store when an event reaches it finds the
// change there. A flush under way used to publish a write's events before
// the writer applied them to the state, so a Consul blocking query woken
// by the event answered with the data from before it and the event's
// index, and then waited past the change for good.
func TestAnEventIsVisibleWhenItArrives(t *testing.T) {
	s := openTest(t, t.TempDir())
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const writers, each = 8, 300
	keys := make([]registry.InstanceKey, writers)
	for w := range writers {
		inst := &registry.Instance{Service: fmt.Sprintf("svc-%d", w), ID: "i-1", Host: "10.0.0.1", Port: 8080}
		got, err := s.Register(ctx, inst)
		if err != nil {
			t.Fatal(err)
		}
		keys[w] = got.Key()
	}
	watch, err := s.Watch(ctx, s.Revision(), registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Update(ctx, keys[w], func(in *registry.Instance) error {
					in.SetMetadata("n", fmt.Sprint(i))
					return nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	stale := 0
	for seen := 0; seen < writers*each; seen++ {
		e, ok := <-watch.Events()
		if !ok {
			t.Fatalf("the watch ended after %d events: %v", seen, watch.Err())
		}
		if got, err := s.Get(ctx, e.Instance.Key()); err != nil || got.Revision < e.Revision {
			stale++
		}
	}
	wg.Wait()
	if stale > 0 {
		t.Errorf("%d of %d events arrived before their change was in the store", stale, writers*each)
	}
}
