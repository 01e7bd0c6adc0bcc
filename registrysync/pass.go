package registrysync

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// passScope is what one pass of a flow covers.
type passScope struct {
	// whole is set for a pass over every service (after a complete
	// listing, on anti-entropy, while the breaker is open).
	whole bool
	// changed are the services changed since the last pass, with when
	// each first changed; since is when every service did (whole).
	changed map[string]time.Time
	since   time.Time
}

func (sc passScope) covers(service string) bool {
	if sc.whole {
		return true
	}
	_, ok := sc.changed[service]
	return ok
}

// changedAt is when the change a write for service applies reached the
// syncer, for the propagation metric.
func (sc passScope) changedAt(service string) time.Time {
	if t, ok := sc.changed[service]; ok && (sc.since.IsZero() || t.Before(sc.since)) {
		return t
	}
	return sc.since
}

// oldest is the earliest change the pass applies.
func (sc passScope) oldest() time.Time {
	o := sc.since
	for _, t := range sc.changed {
		if o.IsZero() || t.Before(o) {
			o = t
		}
	}
	return o
}

// pass brings f's copies in t in line with f's source, for the services
// changed since the last pass (all of them in a whole pass).
func (s *Syncer) pass(ctx context.Context, f *flow, t *target) {
	s.mu.Lock()
	sc := passScope{whole: !f.dirtyAll.IsZero() || f.breaker.open, changed: f.dirty, since: f.dirtyAll}
	f.dirty, f.dirtyAll = map[string]time.Time{}, time.Time{}
	f.inFlight = sc.oldest()
	var groups []Group
	for k, g := range s.sourceLocked(f.from).groups {
		if sc.covers(k.service) {
			groups = append(groups, g)
		}
	}
	current := map[copyKey][]*registry.Instance{}
	alive := map[copyKey]string{}
	for k, list := range t.copies {
		if sc.covers(k.Service) {
			current[k] = list
		}
	}
	for k, d := range t.alive {
		if sc.covers(k.Service) {
			alive[k] = d
		}
	}
	canDelete := s.allCompleteLocked()
	s.mu.Unlock()

	desired, keep := s.desired(ctx, f, groups, sc.whole)
	p := makePlan(planInput{origin: f.from, desired: desired, keep: keep, current: current, alive: alive, canDelete: canDelete})
	for key, other := range p.collisions {
		s.recordError(f, key, "collision", f.to, fmt.Errorf("%s holds a copy from %s in that place already", f.to, other))
	}

	s.mu.Lock()
	copies := s.copiesOfLocked(t, f.from)
	if n := p.removals(); n > 0 || sc.whole {
		wasOpen := f.breaker.open
		if !f.breaker.allow(n, copies, time.Now()) {
			p.holdRemovals()
			if !wasOpen {
				s.metrics.trips.WithLabelValues(f.from, f.to).Inc()
				s.log.Error("deletion breaker open: this flow deletes nothing until fewer deletions are due or an operator releases them (POST /breaker/release)",
					"flow", f.name(), "reason", f.breaker.reason)
			}
		} else if wasOpen {
			s.log.Info("deletion breaker closed", "flow", f.name(), "deletions", n)
		}
		s.metrics.breakerOpen.WithLabelValues(f.from, f.to).Set(boolGauge(f.breaker.open))
	}
	s.mu.Unlock()

	failed := s.write(ctx, f, t, p, sc)

	s.mu.Lock()
	defer s.mu.Unlock()
	if sc.whole {
		f.states = map[copyKey]copyState{}
	} else {
		for k := range current {
			delete(f.states, k)
		}
		for k := range desired {
			delete(f.states, k)
		}
		for k := range keep {
			delete(f.states, k)
		}
	}
	for _, k := range p.inSync {
		f.states[k] = stateInSync
	}
	for _, o := range p.ops {
		if o.kind != OpRemove {
			f.states[o.key] = stateInSync
		}
	}
	for _, o := range p.held {
		f.states[o.key] = stateHeld
	}
	for k := range keep {
		f.states[k] = stateFailed
	}
	for k := range p.collisions {
		f.states[k] = stateFailed
	}
	for k := range failed {
		f.states[k] = stateFailed
	}
	if ctx.Err() != nil {
		// The term ended under the pass: what it did not do is for the
		// next leader, which passes over everything.
		f.markAll(sc.oldest())
	} else if sc.whole {
		f.lastFull = time.Now()
		s.metrics.lastFull.WithLabelValues(f.from, f.to).Set(float64(f.lastFull.Unix()))
	}
	f.inFlight = time.Time{}
	s.metrics.copies.WithLabelValues(f.from, f.to).Set(float64(s.copiesOfLocked(t, f.from)))
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Syncer) sourceLocked(name string) *source {
	for _, src := range s.sources {
		if src.reg.Name == name {
			return src
		}
	}
	panic("registrysync: no source " + name) // New built a source for every flow
}

// copiesOfLocked counts t's copies of origin's instances; s.mu is held.
func (s *Syncer) copiesOfLocked(t *target, origin string) int {
	n := 0
	for _, list := range t.copies {
		for _, c := range list {
			if c.Metadata[MetaOrigin] == origin {
				n++
			}
		}
	}
	return n
}

// desired makes the copies f's source's instances in groups call for:
// copies are never exported again (rule 1), services f does not want are
// left out, the rest is mapped, transformed, marked and checked. keep
// holds the records that could not be made into a copy: their copies, if
// any, stay as they are.
func (s *Syncer) desired(ctx context.Context, f *flow, groups []Group, whole bool) (desired map[copyKey]*registry.Instance, keep map[copyKey]bool) {
	desired, keep = map[copyKey]*registry.Instance{}, map[copyKey]bool{}
	cache := f.cache
	if whole {
		cache = map[copyKey]cachedCopy{} // what the source no longer holds is dropped
	}
	for _, g := range groups {
		for _, inst := range g.Instances {
			if IsCopy(inst) || !f.mapping.wants(inst.Service) {
				continue
			}
			c := f.mapping.copyOf(inst)
			key := keyOf(c)
			if f.transform != nil {
				out, err := s.transformed(ctx, f, key, c, cache)
				if err != nil {
					keep[key] = true
					s.recordError(f, key, "transform", f.from, err)
					continue
				}
				c = out
			}
			c = finish(c, f.from, s.cfg.ID)
			if err := checkCopy(c); err != nil {
				keep[key] = true
				s.recordError(f, key, "record", f.from, err)
				continue
			}
			if first, dup := desired[key]; dup {
				s.recordError(f, key, "record", f.from, sameCopy(first, c))
				continue
			}
			desired[key] = c
		}
	}
	f.cache = cache
	return desired, keep
}

// sameCopy is the error for a source instance whose copy would take the
// place (service and id) of another's: it names both, so that the
// operator sees what collided, be it two namespaces or groups, or two
// hosts the source let hold one id.
func sameCopy(first, second *registry.Instance) error {
	where := func(i *registry.Instance) string {
		return fmt.Sprintf("%s (namespace %q, group %q, cluster %q)", net.JoinHostPort(i.Host, strconv.Itoa(i.Port)), i.Namespace, i.Group, i.Cluster)
	}
	return fmt.Errorf("two instances of the source have service %q and id %q: %s, which stays, and %s; a target holds one instance per service and id",
		first.Service, first.ID, where(first), where(second))
}

// transformed runs f's transformers over c, or takes their output for
// the same input from the cache.
func (s *Syncer) transformed(ctx context.Context, f *flow, key copyKey, c *registry.Instance, cache map[copyKey]cachedCopy) (*registry.Instance, error) {
	in := digestOf(c)
	if hit, ok := f.cache[key]; ok && hit.input == in {
		cache[key] = hit
		return hit.out.Clone(), nil
	}
	out, err := f.transform(ctx, c)
	if err != nil {
		return nil, err // not cached: a plugin that is down is asked again
	}
	cache[key] = cachedCopy{input: in, out: out.Clone()}
	return out.Clone(), nil
}

// checkCopy refuses a copy the registry model cannot hold; each sink
// refuses what its registry cannot hold besides.
func checkCopy(c *registry.Instance) error {
	v := c.Clone()
	v.Normalize()
	return v.Validate()
}

// write carries out p's ops against t's sink, WriteConcurrency at a time,
// and returns the records whose write failed.
func (s *Syncer) write(ctx context.Context, f *flow, t *target, p plan, sc passScope) map[copyKey]bool {
	var (
		failedMu sync.Mutex
		failed   = map[copyKey]bool{}
		writes   []op
		adopt    []op
	)
	fail := func(o op, what string, err error) {
		failedMu.Lock()
		failed[o.key] = true
		failedMu.Unlock()
		if ctx.Err() == nil {
			s.recordError(f, o.key, what, f.to, err)
		}
	}
	for _, o := range p.ops {
		if o.kind == OpAdopt {
			adopt = append(adopt, o)
		} else {
			writes = append(writes, o)
		}
	}
	if a, ok := t.sink.(Adopter); ok && len(adopt) > 0 {
		listed := make([]*registry.Instance, len(adopt))
		for i, o := range adopt {
			listed[i] = o.listed
		}
		if err := a.Adopt(ctx, listed); err != nil {
			for _, o := range adopt {
				fail(o, "adopt", err)
			}
		} else {
			s.mu.Lock()
			for _, o := range adopt {
				t.alive[o.key] = o.copy.Metadata[MetaDigest]
			}
			s.mu.Unlock()
			s.metrics.adopted.WithLabelValues(f.from, f.to).Add(float64(len(adopt)))
		}
		adopt = nil
	}
	// A sink that cannot adopt keeps alive what it wrote: the copies to
	// adopt are written too.
	s.parallel(ctx, append(writes, adopt...), func(o op) {
		if err := s.writeOne(ctx, f, t, o, sc); err != nil {
			fail(o, writeName(o), err)
		}
	})
	return failed
}

// parallel runs fn for each op, WriteConcurrency at a time, until ctx
// ends, and returns once every fn it started returned.
func (s *Syncer) parallel(ctx context.Context, ops []op, fn func(op)) {
	sem := make(chan struct{}, s.cfg.Engine.WriteConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, o := range ops {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(o)
		})
	}
}

// writeName names what o does to the target, for errors.
func writeName(o op) string {
	if o.kind == OpRemove {
		return "delete"
	}
	return "put"
}

// writeOne puts or deletes one copy and records what the target now
// holds.
func (s *Syncer) writeOne(ctx context.Context, f *flow, t *target, o op, sc passScope) error {
	if o.kind == OpRemove {
		if err := t.sink.Delete(ctx, o.copy); err != nil {
			return err
		}
		now := time.Now()
		s.mu.Lock()
		kept := t.copies[o.key][:0:0]
		for _, c := range t.copies[o.key] {
			if c != o.copy {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 {
			delete(t.copies, o.key)
			delete(t.alive, o.key)
		} else {
			t.copies[o.key] = kept
		}
		f.breaker.record(1, now)
		s.mu.Unlock()
		s.metrics.deletes.WithLabelValues(f.from, f.to).Inc()
		s.observe(f, o.key, sc, now)
		return nil
	}
	if err := t.sink.Put(ctx, o.copy); err != nil {
		return err
	}
	now := time.Now()
	s.mu.Lock()
	// The copies of other origins in the same place are kept: a
	// collision is never written over.
	list := []*registry.Instance{o.copy}
	for _, c := range t.copies[o.key] {
		if c.Metadata[MetaOrigin] != f.from {
			list = append(list, c)
		}
	}
	t.copies[o.key] = list
	t.alive[o.key] = o.copy.Metadata[MetaDigest]
	s.mu.Unlock()
	what := string(o.kind)
	if o.kind == OpAdopt {
		what = "renew"
	}
	s.metrics.writes.WithLabelValues(f.from, f.to, what).Inc()
	if o.kind != OpAdopt {
		s.observe(f, o.key, sc, now)
	}
	return nil
}

func (s *Syncer) observe(f *flow, key copyKey, sc passScope, now time.Time) {
	if at := sc.changedAt(key.Service); !at.IsZero() {
		s.metrics.propagation.WithLabelValues(f.from, f.to).Observe(now.Sub(at).Seconds())
	}
}
