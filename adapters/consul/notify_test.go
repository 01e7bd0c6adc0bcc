package consul

import (
	"fmt"
	"testing"

	"github.com/meshbridge/meshbridge/registry"
)

func TestNotifierIndexesStayMonotonic(t *testing.T) {
	n := newNotifier()
	n.reset(10)
	if idx, _ := n.service("a"); idx != 10 {
		t.Fatalf("fresh topic index %d, want the floor 10", idx)
	}
	_, ch := n.service("a")
	n.instanceChanged("a", 15, true, false)
	select {
	case <-ch:
	default:
		t.Fatal("change to a did not wake its watcher")
	}
	_, chB := n.service("b")
	n.instanceChanged("a", 16, true, false)
	select {
	case <-chB:
		t.Fatal("change to a woke b's watcher")
	default:
	}
	// Pruning idle topics must not move any index back.
	for i := range maxServiceTopics + 10 {
		n.service(fmt.Sprintf("probe-%d", i))
	}
	if idx, _ := n.service("a"); idx < 16 {
		t.Fatalf("index of a went back to %d after pruning", idx)
	}
	// KV: a deleted key keeps its prefix's index up.
	n.kvChanged(&registry.Event{Revision: 20, Type: registry.EventDelete, Kind: registry.KindKV, KV: &registry.KV{Key: "cfg/x"}})
	if idx, _ := n.kvPrefix("cfg/", false); idx != 20 {
		t.Fatalf("prefix index after delete %d, want 20", idx)
	}
	if idx, _ := n.kvPrefix("other/", false); idx >= 20 {
		t.Fatalf("unrelated prefix index %d moved", idx)
	}
	for i := range maxTombstones + 1 {
		n.kvChanged(&registry.Event{Revision: int64(100 + i), Type: registry.EventDelete, Kind: registry.KindKV, KV: &registry.KV{Key: fmt.Sprintf("t/%d", i)}})
	}
	if idx, _ := n.kvPrefix("cfg/", false); idx < 20 {
		t.Fatalf("prefix index went back to %d after tombstones collapsed", idx)
	}
}
