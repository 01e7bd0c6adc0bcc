package meshview

import (
	"context"
	"fmt"

	"github.com/meshbridge/meshbridge/registry"
)

// The view's revisions and the control plane's KV revisions are one space,
// because the front-ends mix them: Consul's KV index is the newest of the
// key's ModifyIndex (a control-plane revision) and of the view's own
// change stream. A control-plane revision R appears in the view as
// (R+offset)<<kvShift; the view's own changes (instances) take the numbers
// in between. So the translation needs no table in either direction, KV
// revisions stay comparable with everything the view publishes, and a
// compare-and-set from a client maps back exactly.
//
// The offset moves forward only when the control plane's revisions went
// back (a new store) or the view made 2^kvShift changes of its own between
// two KV revisions; both also reset the view's watchers, so that every
// front-end reads again.
const kvShift = 20

// toViewLocked translates a control-plane revision; v.mu must be held.
func (v *View) toViewLocked(rev int64) int64 {
	if rev <= 0 {
		return rev
	}
	return (rev + v.kvOffset) << kvShift
}

// exposeKV rewrites a control-plane entry's revisions into the view's.
func (v *View) exposeKV(kvs ...*registry.KV) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.exposeKVLocked(kvs...)
}

// exposeKVLocked is exposeKV with v.mu held; nil entries are skipped.
func (v *View) exposeKVLocked(kvs ...*registry.KV) {
	for _, kv := range kvs {
		if kv != nil {
			kv.Revision, kv.CreateRevision = v.toViewLocked(kv.Revision), v.toViewLocked(kv.CreateRevision)
		}
	}
}

// upstreamExpect translates a compare-and-set expectation: negative (any)
// and 0 (create-only) pass as they are; a revision the view never gave out
// for a key cannot match one, so it is a conflict without asking.
func (v *View) upstreamExpect(key string, expect int64) (int64, error) {
	if expect <= 0 {
		return max(expect, -1), nil
	}
	v.mu.Lock()
	up := expect>>kvShift - v.kvOffset
	v.mu.Unlock()
	if expect&(1<<kvShift-1) != 0 || up <= 0 {
		return 0, fmt.Errorf("meshview: key %q is not at revision %d: %w", key, expect, registry.ErrConflict)
	}
	return up, nil
}

// PutKV implements registry.KeyValues on the control plane, compare-and-set
// included (expect is one of the view's revisions, as GetKV gave it).
func (v *View) PutKV(ctx context.Context, kv *registry.KV, expect int64) (*registry.KV, error) {
	if kv == nil {
		return nil, &registry.ValidationError{Field: "kv", Message: "required"}
	}
	up, err := v.upstreamExpect(kv.Key, expect)
	if err != nil {
		return nil, err
	}
	got, err := v.opts.Upstream.PutKV(ctx, kv, up)
	if err != nil {
		return nil, fmt.Errorf("meshview: put key %q: %w", kv.Key, err)
	}
	v.exposeKV(got)
	return got, nil
}

// GetKV implements registry.KeyValues from the control plane.
func (v *View) GetKV(ctx context.Context, key string) (*registry.KV, error) {
	got, err := v.opts.Upstream.GetKV(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("meshview: get key %q: %w", key, err)
	}
	v.exposeKV(got)
	return got, nil
}

// ListKV implements registry.KeyValues from the control plane. The revision is
// the view's at the start of the read, or the newest listed entry's when
// that one is not published yet: a watch from it misses no later change.
func (v *View) ListKV(ctx context.Context, prefix string) ([]*registry.KV, int64, error) {
	rev := v.Revision()
	list, _, err := v.opts.Upstream.ListKV(ctx, prefix)
	if err != nil {
		return nil, 0, fmt.Errorf("meshview: list keys %q: %w", prefix, err)
	}
	v.exposeKV(list...)
	for _, kv := range list {
		rev = max(rev, kv.Revision)
	}
	return list, rev, nil
}

// DeleteKV implements registry.KeyValues on the control plane.
func (v *View) DeleteKV(ctx context.Context, key string, expect int64) (*registry.KV, error) {
	up, err := v.upstreamExpect(key, expect)
	if err != nil {
		return nil, err
	}
	got, err := v.opts.Upstream.DeleteKV(ctx, key, up)
	if err != nil {
		return nil, fmt.Errorf("meshview: delete key %q: %w", key, err)
	}
	v.exposeKV(got)
	return got, nil
}

// DeleteKVPrefix implements registry.KeyValues on the control plane.
func (v *View) DeleteKVPrefix(ctx context.Context, prefix string) (int, error) {
	n, err := v.opts.Upstream.DeleteKVPrefix(ctx, prefix)
	if err != nil {
		return 0, fmt.Errorf("meshview: delete keys %q: %w", prefix, err)
	}
	return n, nil
}

// publishKV hands control-plane KV events to the view's watchers at their
// translated revisions. The state holds no keys (reads go upstream); its
// revision follows so a list-then-watch starts after them.
func (v *View) publishKV(events []registry.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]registry.Event, 0, len(events))
	for _, e := range events {
		if e.Kind != registry.KindKV || e.KV == nil {
			continue
		}
		if v.toViewLocked(e.Revision) <= v.rev {
			// The view's own changes used up the room below this revision.
			v.hub.Publish(out...)
			out = out[:0]
			v.resetKVLocked(e.Revision - 1)
		}
		e.Revision = v.toViewLocked(e.Revision)
		v.exposeKVLocked(e.KV, e.PrevKV)
		v.rev = e.Revision
		out = append(out, e)
	}
	v.state.SetRevision(v.rev)
	v.hub.Publish(out...)
}

// resetKVLocked ends every watcher of the view (they list again) after KV
// changes may have been missed, and makes sure the control plane's
// revisions after cur translate above everything published so far.
func (v *View) resetKVLocked(cur int64) {
	if v.toViewLocked(cur+1) <= v.rev+1 {
		v.kvOffset = v.rev>>kvShift + 1 - cur
	}
	v.rev++
	v.state.SetRevision(v.rev)
	v.hub.Reset(v.rev)
}
