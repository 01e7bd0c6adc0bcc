package eureka

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/adapters/eureka/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// view is the namespace as Eureka shows it, kept from the store's watch.
// Bulk reads (/apps, /apps/delta, VIPs) and the reconcile hash come from
// it, so a delta and the hash it carries always describe the same state.
type view struct {
	namespace string

	mu      sync.RWMutex
	ready   bool
	rev     int64
	entries map[registry.InstanceKey]*entry
	apps    map[string]*appState
	counts  map[registry.Status]int
	snap    *snapshot // nil when stale
	delta   deltaLog
	changed chan struct{} // closed and replaced whenever rev moves
}

// entry is one instance as shown: the shared store object (read-only), its
// rendering, and its encodings, made on first use.
type entry struct {
	key    registry.InstanceKey
	inst   *registry.Instance
	app    string
	status registry.Status
	wire   *wire.Instance
	json   atomic.Pointer[[]byte]
	xml    atomic.Pointer[[]byte]
}

func newEntry(inst *registry.Instance, action string) *entry {
	w := toWire(inst, action)
	return &entry{key: inst.Key(), inst: inst, app: w.App, status: registry.Status(w.Status), wire: w}
}

// encodedJSON is the instance as AppendInstanceJSON writes it.
func (e *entry) encodedJSON() []byte {
	if b := e.json.Load(); b != nil {
		return *b
	}
	b := wire.AppendInstanceJSON(make([]byte, 0, 1024), e.wire)
	e.json.Store(&b)
	return b
}

// encodedXML is the instance as it sits inside <applications><application>.
func (e *entry) encodedXML() []byte {
	if b := e.xml.Load(); b != nil {
		return *b
	}
	b := wire.InstanceXML(e.wire)
	e.xml.Store(&b)
	return b
}

// appState is one application's instances.
type appState struct {
	name    string
	entries map[registry.InstanceKey]*entry
}

func newView(namespace string) *view {
	return &view{
		namespace: namespace,
		entries:   map[registry.InstanceKey]*entry{},
		apps:      map[string]*appState{},
		counts:    map[registry.Status]int{},
		changed:   make(chan struct{}),
	}
}

// reset replaces the content with a listing taken at rev. On the first
// call nothing goes to the delta; later (after a watch was lost) the
// difference to the previous content does, so clients still converge.
func (v *view) reset(insts []*registry.Instance, rev int64, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	old := v.entries
	first := !v.ready
	v.entries = make(map[registry.InstanceKey]*entry, len(insts))
	v.apps = map[string]*appState{}
	v.counts = map[registry.Status]int{}
	for _, inst := range insts {
		if inst.Namespace != v.namespace {
			continue
		}
		action := wire.ActionAdded
		prev := old[inst.Key()]
		if prev != nil {
			action = prev.wire.ActionType
			if prev.inst.Revision != inst.Revision {
				action = wire.ActionModified
			}
		}
		en := newEntry(inst, action)
		v.insertLocked(en)
		if !first && (prev == nil || prev.inst.Revision != inst.Revision) {
			v.delta.add(now, en)
		}
	}
	if !first {
		for key, prev := range old {
			if _, ok := v.entries[key]; !ok {
				v.delta.add(now, newEntry(prev.inst, wire.ActionDeleted))
			}
		}
	}
	v.rev = max(v.rev, rev)
	v.ready = true
	v.changedLocked()
}

// apply applies one watch event.
func (v *view) apply(e *registry.Event, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rev = max(v.rev, e.Revision)
	if e.Kind == registry.KindInstance && e.Instance != nil && e.Instance.Namespace == v.namespace {
		key := e.Instance.Key()
		prev := v.entries[key]
		if prev != nil {
			v.removeLocked(prev)
		}
		switch e.Type {
		case registry.EventDelete:
			v.delta.add(now, newEntry(e.Instance, wire.ActionDeleted))
		case registry.EventPut:
			action := wire.ActionAdded
			if prev != nil {
				action = wire.ActionModified
			}
			en := newEntry(e.Instance, action)
			v.insertLocked(en)
			v.delta.add(now, en)
		}
	}
	v.changedLocked()
}

func (v *view) insertLocked(en *entry) {
	v.entries[en.key] = en
	a := v.apps[en.app]
	if a == nil {
		a = &appState{name: en.app, entries: map[registry.InstanceKey]*entry{}}
		v.apps[en.app] = a
	}
	a.entries[en.key] = en
	v.counts[en.status]++
}

func (v *view) removeLocked(en *entry) {
	delete(v.entries, en.key)
	if a := v.apps[en.app]; a != nil {
		delete(a.entries, en.key)
		if len(a.entries) == 0 {
			delete(v.apps, en.app)
		}
	}
	if v.counts[en.status]--; v.counts[en.status] <= 0 {
		delete(v.counts, en.status)
	}
}

func (v *view) changedLocked() {
	v.snap = nil
	close(v.changed)
	v.changed = make(chan struct{})
}

// waitFor blocks until the view has applied revision rev, or ctx ends;
// it reports whether the revision was reached.
func (v *view) waitFor(ctx context.Context, rev int64) bool {
	return v.waitUntil(ctx, func() bool { return v.rev >= rev })
}

// waitGone blocks until the view no longer holds the instance at revision
// rev (it was removed, or replaced by a newer registration), or ctx ends.
func (v *view) waitGone(ctx context.Context, key registry.InstanceKey, rev int64) bool {
	return v.waitUntil(ctx, func() bool {
		en := v.entries[key]
		return en == nil || en.inst.Revision > rev
	})
}

// waitUntil blocks until the view is ready and cond (called under the
// read lock) holds, or ctx ends.
func (v *view) waitUntil(ctx context.Context, cond func() bool) bool {
	for {
		v.mu.RLock()
		done := v.ready && cond()
		ch := v.changed
		v.mu.RUnlock()
		if done {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// isReady reports whether the first listing has been loaded.
func (v *view) isReady() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.ready
}

// current returns the snapshot of the present content, building it once
// per change.
func (v *view) current() *snapshot {
	v.mu.RLock()
	s := v.snap
	v.mu.RUnlock()
	if s != nil {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.snap == nil {
		v.snap = v.buildSnapshotLocked()
	}
	return v.snap
}

func (v *view) buildSnapshotLocked() *snapshot {
	s := &snapshot{rev: v.rev, hash: reconcileHash(v.counts), apps: make([]*appSnapshot, 0, len(v.apps))}
	for _, a := range v.apps {
		entries := make([]*entry, 0, len(a.entries))
		for _, en := range a.entries {
			entries = append(entries, en)
		}
		slices.SortFunc(entries, compareEntries)
		s.apps = append(s.apps, &appSnapshot{name: a.name, entries: entries})
		s.instances += len(entries)
	}
	slices.SortFunc(s.apps, func(a, b *appSnapshot) int { return cmp.Compare(a.name, b.name) })
	return s
}

func compareEntries(a, b *entry) int {
	return cmp.Or(cmp.Compare(a.key.ID, b.key.ID), cmp.Compare(a.key.Group, b.key.Group))
}

// statuses in the order Eureka's TreeMap puts them.
var hashOrder = []registry.Status{
	registry.StatusDown, registry.StatusOutOfService, registry.StatusStarting,
	registry.StatusUnknown, registry.StatusUp,
}

// reconcileHash is Applications.getReconcileHashCode: for each status
// with instances, in alphabetical order, STATUS_count_ ("DOWN_1_UP_3_").
func reconcileHash(counts map[registry.Status]int) string {
	var b []byte
	for _, st := range hashOrder {
		if n := counts[st]; n > 0 {
			b = append(b, st...)
			b = append(b, '_')
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, '_')
		}
	}
	return string(b)
}

// actionOf is the last action type the view recorded for an instance
// (ADDED when it has not seen it yet).
func (v *view) actionOf(key registry.InstanceKey) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if en := v.entries[key]; en != nil {
		return en.wire.ActionType
	}
	return wire.ActionAdded
}
