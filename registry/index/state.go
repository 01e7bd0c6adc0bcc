package index

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// entry is a stored instance: the immutable instance value plus its lease
// renewal time, kept apart so a renewal is an atomic store, not a copy.
type entry struct {
	inst    *registry.Instance
	renewed atomic.Int64 // unix nanoseconds
}

// State is the indexed registry content at one revision.
type State struct {
	mu        sync.RWMutex
	rev       int64
	instances map[registry.InstanceKey]*entry
	services  map[registry.ServiceID]map[string]*entry
	resources map[registry.ResourceKey]*registry.Resource
	kv        map[string]*registry.KV
}

// NewState returns an empty state.
func NewState() *State {
	return &State{
		instances: map[registry.InstanceKey]*entry{},
		services:  map[registry.ServiceID]map[string]*entry{},
		resources: map[registry.ResourceKey]*registry.Resource{},
		kv:        map[string]*registry.KV{},
	}
}

// Revision is the revision of the last applied event.
func (s *State) Revision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}

// SetRevision moves the revision forward without a change (restores, etcd
// revisions of unrelated keys).
func (s *State) SetRevision(rev int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rev = max(s.rev, rev)
}

// Apply applies events in order. The objects in them are kept, not copied:
// callers hand over ownership.
func (s *State) Apply(events ...registry.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range events {
		s.applyLocked(&events[i])
	}
}

func (s *State) applyLocked(e *registry.Event) {
	s.rev = max(s.rev, e.Revision)
	switch e.Kind {
	case registry.KindInstance:
		key := e.Instance.Key()
		if e.Type == registry.EventDelete {
			s.deleteInstanceLocked(key)
			return
		}
		en := &entry{inst: e.Instance}
		en.renewed.Store(e.Instance.Lease.LastRenewal.UnixNano())
		if old, ok := s.instances[key]; ok {
			// Keep a renewal newer than the one the event carries.
			en.renewed.Store(max(old.renewed.Load(), en.renewed.Load()))
		}
		s.instances[key] = en
		sid := key.Service()
		byID := s.services[sid]
		if byID == nil {
			byID = map[string]*entry{}
			s.services[sid] = byID
		}
		byID[key.ID] = en
	case registry.KindResource:
		if e.Type == registry.EventDelete {
			delete(s.resources, e.Resource.Key())
		} else {
			s.resources[e.Resource.Key()] = e.Resource
		}
	case registry.KindKV:
		if e.Type == registry.EventDelete {
			delete(s.kv, e.KV.Key)
		} else {
			s.kv[e.KV.Key] = e.KV
		}
	}
}

func (s *State) deleteInstanceLocked(key registry.InstanceKey) {
	delete(s.instances, key)
	sid := key.Service()
	if byID := s.services[sid]; byID != nil {
		delete(byID, key.ID)
		if len(byID) == 0 {
			delete(s.services, sid)
		}
	}
}

// withLease returns a copy of the stored instance with its current lease time.
func (en *entry) snapshot() *registry.Instance {
	c := en.inst.Clone()
	c.Lease.LastRenewal = time.Unix(0, en.renewed.Load())
	return c
}

// Instance returns a copy of one instance, or nil.
func (s *State) Instance(key registry.InstanceKey) *registry.Instance {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if en, ok := s.instances[key]; ok {
		return en.snapshot()
	}
	return nil
}

// Stored returns the stored (shared, read-only) instance value, or nil.
// Only store implementations use it, to compute the next version.
func (s *State) Stored(key registry.InstanceKey) *registry.Instance {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if en, ok := s.instances[key]; ok {
		return en.inst
	}
	return nil
}

// Renew records a renewal at t; false if the instance is unknown.
func (s *State) Renew(key registry.InstanceKey, t time.Time) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	en, ok := s.instances[key]
	if ok {
		en.renewed.Store(t.UnixNano())
	}
	return ok
}

// RenewAll sets every lease's last renewal to t (the grace window after a restart).
func (s *State) RenewAll(t time.Time) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, en := range s.instances {
		en.renewed.Store(t.UnixNano())
	}
}

// List returns copies of matching instances sorted by key, and the revision.
func (s *State) List(f registry.Filter) ([]*registry.Instance, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*registry.Instance
	visit := func(en *entry) {
		if f.Match(en.inst) {
			out = append(out, en.snapshot())
		}
	}
	if f.Service != "" && f.Namespace != "" && f.Group != "" {
		sid := registry.ServiceID{Namespace: f.Namespace, Group: f.Group, ServiceKey: registry.CanonicalServiceKey(f.Service)}
		for _, en := range s.services[sid] {
			visit(en)
		}
	} else if f.Service != "" {
		key := registry.CanonicalServiceKey(f.Service)
		for sid, byID := range s.services {
			if sid.ServiceKey == key {
				for _, en := range byID {
					visit(en)
				}
			}
		}
	} else {
		for _, en := range s.instances {
			visit(en)
		}
	}
	slices.SortFunc(out, func(a, b *registry.Instance) int { return compareKeys(a.Key(), b.Key()) })
	return out, s.rev
}

// Expired returns the keys of ephemeral instances whose lease ran out at now,
// and how many instances hold a lease at all.
func (s *State) Expired(now time.Time) (expired []registry.InstanceKey, leased int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for key, en := range s.instances {
		if !en.inst.Ephemeral || en.inst.Lease.Duration <= 0 {
			continue
		}
		leased++
		if now.Sub(time.Unix(0, en.renewed.Load())) > en.inst.Lease.Duration {
			expired = append(expired, key)
		}
	}
	slices.SortFunc(expired, compareKeys)
	return expired, leased
}

// Services summarises services in a namespace ("" for all).
func (s *State) Services(namespace string) ([]registry.ServiceSummary, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]registry.ServiceSummary, 0, len(s.services))
	for sid, byID := range s.services {
		if namespace != "" && sid.Namespace != namespace {
			continue
		}
		sum := registry.ServiceSummary{ServiceID: sid}
		var newest *registry.Instance
		for _, en := range byID {
			sum.Instances++
			if en.inst.Healthy() {
				sum.Healthy++
			}
			sum.Revision = max(sum.Revision, en.inst.Revision)
			if newest == nil || en.inst.Revision > newest.Revision {
				newest = en.inst
			}
		}
		if newest != nil {
			sum.Name = newest.Service
		}
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b registry.ServiceSummary) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Group, b.Group), cmp.Compare(a.ServiceKey, b.ServiceKey))
	})
	return out, s.rev
}

// Resource returns a copy of one resource, or nil.
func (s *State) Resource(key registry.ResourceKey) *registry.Resource {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.resources[key].Clone()
}

// Resources lists resources of a kind ("" for all), sorted by kind and name.
func (s *State) Resources(kind string) ([]*registry.Resource, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*registry.Resource
	for k, r := range s.resources {
		if kind == "" || k.Kind == kind {
			out = append(out, r.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *registry.Resource) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out, s.rev
}

// KV returns a copy of one key, or nil.
func (s *State) KV(key string) *registry.KV {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.kv[key].Clone()
}

// KVs lists keys with the prefix, sorted.
func (s *State) KVs(prefix string) ([]*registry.KV, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*registry.KV
	for k, v := range s.kv {
		if strings.HasPrefix(k, prefix) {
			out = append(out, v.Clone())
		}
	}
	slices.SortFunc(out, func(a, b *registry.KV) int { return cmp.Compare(a.Key, b.Key) })
	return out, s.rev
}

// Counts returns how many instances, resources and keys are held.
func (s *State) Counts() (instances, resources, keys int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.instances), len(s.resources), len(s.kv)
}

// Snapshot calls fn with every stored object while holding the read lock;
// fn must not call back into the state.
func (s *State) Snapshot(fn func(rev int64, instances []*registry.Instance, resources []*registry.Resource, kvs []*registry.KV)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	insts := make([]*registry.Instance, 0, len(s.instances))
	for _, en := range s.instances {
		insts = append(insts, en.inst)
	}
	res := make([]*registry.Resource, 0, len(s.resources))
	for _, r := range s.resources {
		res = append(res, r)
	}
	kvs := make([]*registry.KV, 0, len(s.kv))
	for _, v := range s.kv {
		kvs = append(kvs, v)
	}
	fn(s.rev, insts, res, kvs)
}

func compareKeys(a, b registry.InstanceKey) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Group, b.Group),
		cmp.Compare(a.ServiceKey, b.ServiceKey), cmp.Compare(a.ID, b.ID))
}

// Replace swaps the whole content for a fresh listing at rev (the etcd
// store's resynchronisation after its watch lost events).
func (s *State) Replace(rev int64, events []registry.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.instances = map[registry.InstanceKey]*entry{}
	s.services = map[registry.ServiceID]map[string]*entry{}
	s.resources = map[registry.ResourceKey]*registry.Resource{}
	s.kv = map[string]*registry.KV{}
	for i := range events {
		s.applyLocked(&events[i])
	}
	s.rev = rev
}
