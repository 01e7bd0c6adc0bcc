package eureka

import (
	"slices"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

func viewInstance(id string, rev int64, status registry.Status) *registry.Instance {
	in := &registry.Instance{ID: id, Service: "orders", Host: "h-" + id, Port: 80, Status: status, Revision: rev}
	in.Normalize()
	return in
}

// TestViewResyncFeedsTheDelta: after a lost watch the view lists again;
// the difference to what it showed goes to the delta, so clients that
// only fetch deltas still converge.
func TestViewResyncFeedsTheDelta(t *testing.T) {
	v := newView(registry.DefaultNamespace)
	now := time.Now()
	v.reset([]*registry.Instance{
		viewInstance("keep", 1, registry.StatusUp),
		viewInstance("change", 2, registry.StatusUp),
		viewInstance("gone", 3, registry.StatusUp),
	}, 3, now)
	if d := v.deltaDocument(now, time.Minute); len(d.apps) != 0 {
		t.Fatalf("the first listing must not fill the delta: %+v", d.apps)
	}
	other := viewInstance("other-ns", 5, registry.StatusUp)
	other.Namespace = "dev"
	v.reset([]*registry.Instance{
		viewInstance("keep", 1, registry.StatusUp),
		viewInstance("change", 4, registry.StatusDown),
		viewInstance("new", 6, registry.StatusStarting),
		other,
	}, 6, now)
	d := v.deltaDocument(now, time.Minute)
	var got []string
	for _, a := range d.apps {
		for _, en := range a.entries {
			got = append(got, en.key.ID+":"+en.wire.ActionType+":"+en.wire.Status)
		}
	}
	want := []string{"change:MODIFIED:DOWN", "gone:DELETED:UP", "new:ADDED:STARTING"}
	if !slices.Equal(got, want) {
		t.Errorf("delta after resync: %v, want %v", got, want)
	}
	if d.hash != "DOWN_1_STARTING_1_UP_1_" {
		t.Errorf("hash %q", d.hash)
	}
	if s := v.current(); s.instances != 3 || s.rev != 6 {
		t.Errorf("snapshot: %d instances at %d", s.instances, s.rev)
	}
}

// TestViewDeltaKeepsLatestPerInstance: several changes of one instance in
// the window appear once, in their latest state.
func TestViewDeltaKeepsLatestPerInstance(t *testing.T) {
	v := newView(registry.DefaultNamespace)
	now := time.Now()
	v.reset(nil, 0, now)
	put := func(in *registry.Instance) {
		v.apply(&registry.Event{Revision: in.Revision, Type: registry.EventPut, Kind: registry.KindInstance, Instance: in}, now)
	}
	put(viewInstance("a", 1, registry.StatusStarting))
	put(viewInstance("a", 2, registry.StatusUp))
	v.apply(&registry.Event{Revision: 3, Type: registry.EventDelete, Kind: registry.KindInstance, Instance: viewInstance("a", 2, registry.StatusUp)}, now)
	put(viewInstance("a", 4, registry.StatusUp))
	d := v.deltaDocument(now, time.Minute)
	if len(d.apps) != 1 || len(d.apps[0].entries) != 1 {
		t.Fatalf("delta: %+v", d.apps)
	}
	if en := d.apps[0].entries[0]; en.wire.ActionType != "ADDED" || en.inst.Revision != 4 || d.hash != "UP_1_" {
		t.Errorf("latest change: %s rev %d hash %s", en.wire.ActionType, en.inst.Revision, d.hash)
	}
}
