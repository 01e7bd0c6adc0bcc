package table

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/meshbridge/meshbridge/registry"
)

// Holder keeps the current table and rebuilds it from control-plane
// updates. Readers call Load once per request; a rebuild is published with
// one atomic store, so a request sees either the old table or the new one,
// never a mix, and requests in flight keep the table they started with.
type Holder struct {
	opts   Options
	logger *slog.Logger

	cur atomic.Pointer[Table]

	mu        sync.Mutex // serialises rebuilds
	instances map[registry.InstanceKey]*registry.Instance
	resources map[registry.ResourceKey]*registry.Resource
	stats     statsCache
	ready     bool
	listeners []func(*Table)
}

// NewHolder returns a holder with an empty table; Ready is false until the
// first Snapshot.
func NewHolder(opts Options, logger *slog.Logger) *Holder {
	if logger == nil {
		logger = slog.Default()
	}
	h := &Holder{opts: opts.withDefaults(), logger: logger.With("component", "sidecar.table")}
	h.cur.Store(Build(0, nil, nil, h.opts))
	return h
}

// Load returns the current table.
func (h *Holder) Load() *Table { return h.cur.Load() }

// Ready reports whether a snapshot from the control plane arrived.
func (h *Holder) Ready() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ready
}

// OnSwap registers fn to be called (under the rebuild lock, in order) with
// every new table. The mesh view uses it to follow services.
func (h *Holder) OnSwap(fn func(*Table)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listeners = append(h.listeners, fn)
	fn(h.cur.Load())
}

// Snapshot replaces everything the holder knows with a full listing.
func (h *Holder) Snapshot(rev int64, instances []*registry.Instance, resources []*registry.Resource) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.instances = make(map[registry.InstanceKey]*registry.Instance, len(instances))
	for _, i := range instances {
		h.instances[i.Key()] = i
	}
	h.resources = make(map[registry.ResourceKey]*registry.Resource, len(resources))
	for _, r := range resources {
		h.resources[r.Key()] = r
	}
	h.ready = true
	h.rebuildLocked(rev)
}

// Changes applies a batch of events and publishes one new table for the
// whole batch.
func (h *Holder) Changes(rev int64, events []registry.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.instances == nil {
		h.instances = map[registry.InstanceKey]*registry.Instance{}
		h.resources = map[registry.ResourceKey]*registry.Resource{}
	}
	for _, e := range events {
		switch {
		case e.Kind == registry.KindInstance && e.Instance != nil:
			if e.Type == registry.EventDelete {
				delete(h.instances, e.Instance.Key())
			} else {
				h.instances[e.Instance.Key()] = e.Instance
			}
		case e.Kind == registry.KindResource && e.Resource != nil:
			if e.Type == registry.EventDelete {
				delete(h.resources, e.Resource.Key())
			} else {
				h.resources[e.Resource.Key()] = e.Resource
			}
		}
	}
	h.rebuildLocked(rev)
}

func (h *Holder) rebuildLocked(rev int64) {
	insts := make([]*registry.Instance, 0, len(h.instances))
	for _, i := range h.instances {
		insts = append(insts, i)
	}
	res := make([]*registry.Resource, 0, len(h.resources))
	for _, r := range h.resources {
		res = append(res, r)
	}
	t := build(rev, insts, res, h.opts, &h.stats)
	prev := h.cur.Swap(t)
	if len(t.Warnings) > 0 && (prev == nil || !equalStrings(prev.Warnings, t.Warnings)) {
		for _, w := range t.Warnings {
			h.logger.Warn("rule ignored", "reason", w, "revision", rev)
		}
	}
	for _, fn := range h.listeners {
		fn(t)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
