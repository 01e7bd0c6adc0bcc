package eureka

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// deltaLog is Eureka's recently-changed queue: every change of the last
// retention window, each with the instance as it was after the change
// (as it was before, for a delete) and its action type.
type deltaLog struct {
	items   []deltaItem // oldest first
	version int64       // versions__delta: bumped on every rebuild
	cache   *deltaDoc
}

type deltaItem struct {
	at time.Time
	en *entry
}

// deltaDoc is a built /apps/delta document, valid while the view revision
// and the oldest retained change stay the same.
type deltaDoc struct {
	rev     int64
	oldest  time.Time
	count   int
	version string
	hash    string
	apps    []*appSnapshot
	docs    [2]payload
}

func (d *deltaLog) add(now time.Time, en *entry) {
	d.items = append(d.items, deltaItem{at: now, en: en})
}

// prune drops changes older than the cutoff.
func (d *deltaLog) prune(cutoff time.Time) {
	n := 0
	for n < len(d.items) && d.items[n].at.Before(cutoff) {
		n++
	}
	if n == 0 {
		return
	}
	// Copy so the dropped entries can be collected.
	d.items = append(d.items[:0:0], d.items[n:]...)
}

// prune drops expired changes; Run calls it periodically so an idle
// server frees them too.
func (v *view) prune(now time.Time, retention time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.delta.prune(now.Add(-retention))
}

// deltaDocument returns the delta document: the latest state of every
// instance changed within the retention window, grouped by app, with the
// reconcile hash of the whole current registry (so a client that applied
// it can check it is in step).
func (v *view) deltaDocument(now time.Time, retention time.Duration) *deltaDoc {
	cutoff := now.Add(-retention)
	// Fast path: most requests find the document built and nothing to prune.
	v.mu.RLock()
	if c := v.delta.cache; c != nil && c.rev == v.rev && c.count == len(v.delta.items) &&
		(len(v.delta.items) == 0 || !v.delta.items[0].at.Before(cutoff)) {
		v.mu.RUnlock()
		return c
	}
	v.mu.RUnlock()

	v.mu.Lock()
	defer v.mu.Unlock()
	d := &v.delta
	d.prune(cutoff)
	var oldest time.Time
	if len(d.items) > 0 {
		oldest = d.items[0].at
	}
	if c := d.cache; c != nil && c.rev == v.rev && c.oldest.Equal(oldest) && c.count == len(d.items) {
		return c
	}
	// Keep only the latest change per instance (polaris#1249: an older
	// DELETED after a newer ADDED would make clients drop live instances).
	latest := make(map[registry.InstanceKey]*entry, len(d.items))
	for _, it := range d.items {
		latest[it.en.key] = it.en
	}
	byApp := map[string][]*entry{}
	for _, en := range latest {
		byApp[en.app] = append(byApp[en.app], en)
	}
	names := make([]string, 0, len(byApp))
	for name := range byApp {
		names = append(names, name)
	}
	slices.Sort(names)
	d.version++
	doc := &deltaDoc{
		rev: v.rev, oldest: oldest, count: len(d.items),
		version: strconv.FormatInt(d.version, 10),
		hash:    reconcileHash(v.counts),
	}
	for _, name := range names {
		entries := byApp[name]
		slices.SortFunc(entries, func(a, b *entry) int { return cmp.Compare(a.key.ID, b.key.ID) })
		doc.apps = append(doc.apps, &appSnapshot{name: name, entries: entries})
	}
	d.cache = doc
	return doc
}

func (d *deltaDoc) builder(f format) func() []byte {
	return func() []byte { return applicationsDoc(f, d.version, d.hash, d.apps) }
}

func (d *deltaDoc) doc(f format, gz bool) []byte {
	if gz {
		return d.docs[f].gzipped(d.builder(f))
	}
	return d.docs[f].get(d.builder(f))
}
