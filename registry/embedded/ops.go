package embedded

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

func notFound(what string) error { return fmt.Errorf("%s: %w", what, registry.ErrNotFound) }

// Register creates or replaces an instance.
func (s *Store) Register(ctx context.Context, in *registry.Instance) (*registry.Instance, error) {
	var out *registry.Instance
	_, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		if in == nil {
			return nil, fmt.Errorf("register: %w", registry.ErrInvalid)
		}
		probe := in.Clone()
		probe.Normalize()
		prev := s.state.Stored(probe.Key())
		inst, err := registry.PrepareRegister(prev, in, now)
		if err != nil {
			return nil, err
		}
		inst.Revision = rev
		out = inst.Clone()
		return []registry.Event{{Revision: rev, Type: registry.EventPut, Kind: registry.KindInstance, Instance: inst, PrevInstance: prev}}, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Deregister removes an instance.
func (s *Store) Deregister(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	return s.remove(ctx, key, "")
}

func (s *Store) remove(ctx context.Context, key registry.InstanceKey, reason string) (*registry.Instance, error) {
	var out *registry.Instance
	_, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		prev := s.state.Stored(key)
		if prev == nil {
			return nil, notFound("instance " + key.String())
		}
		if reason == registry.ReasonExpired && !s.state.Instance(key).Expired(now) {
			return nil, nil // renewed since the expiry pass looked
		}
		out = prev.Clone()
		return []registry.Event{{Revision: rev, Type: registry.EventDelete, Kind: registry.KindInstance, Reason: reason, Instance: prev}}, nil
	})
	return out, err
}

// Renew refreshes a lease without a new revision.
func (s *Store) Renew(ctx context.Context, key registry.InstanceKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed() {
		return registry.ErrClosed
	}
	if !s.state.Renew(key, s.opts.Now()) {
		return notFound("instance " + key.String())
	}
	return nil
}

// SetStatusOverride sets an overriding status.
func (s *Store) SetStatusOverride(ctx context.Context, key registry.InstanceKey, status registry.Status) (*registry.Instance, error) {
	if status == "" {
		return nil, fmt.Errorf("status override: status: required: %w", registry.ErrInvalid)
	}
	return s.update(ctx, key, func(prev *registry.Instance, now time.Time) (*registry.Instance, error) {
		return registry.PrepareStatusOverride(prev, status, now)
	})
}

// ClearStatusOverride removes the overriding status.
func (s *Store) ClearStatusOverride(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	return s.update(ctx, key, func(prev *registry.Instance, now time.Time) (*registry.Instance, error) {
		return registry.PrepareStatusOverride(prev, "", now)
	})
}

// Update applies fn to a copy of the instance.
func (s *Store) Update(ctx context.Context, key registry.InstanceKey, fn func(*registry.Instance) error) (*registry.Instance, error) {
	return s.update(ctx, key, func(prev *registry.Instance, now time.Time) (*registry.Instance, error) {
		return registry.PrepareUpdate(prev, fn, now)
	})
}

func (s *Store) update(ctx context.Context, key registry.InstanceKey, next func(prev *registry.Instance, now time.Time) (*registry.Instance, error)) (*registry.Instance, error) {
	var out *registry.Instance
	_, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		prev := s.state.Stored(key)
		if prev == nil {
			return nil, notFound("instance " + key.String())
		}
		inst, err := next(prev, now)
		if err != nil {
			return nil, err
		}
		inst.Revision = rev
		// The lease is kept by the index; the event carries the last known renewal.
		inst.Lease.LastRenewal = s.state.Instance(key).Lease.LastRenewal
		out = inst.Clone()
		return []registry.Event{{Revision: rev, Type: registry.EventPut, Kind: registry.KindInstance, Instance: inst, PrevInstance: prev}}, nil
	})
	return out, err
}

// Get returns one instance.
func (s *Store) Get(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	if inst := s.state.Instance(key); inst != nil {
		return inst, nil
	}
	return nil, notFound("instance " + key.String())
}

// List returns matching instances.
func (s *Store) List(ctx context.Context, f registry.Filter) ([]*registry.Instance, int64, error) {
	out, rev := s.state.List(f)
	return out, rev, nil
}

// Services summarises services.
func (s *Store) Services(ctx context.Context, namespace string) ([]registry.ServiceSummary, int64, error) {
	out, rev := s.state.Services(namespace)
	return out, rev, nil
}

// PutResource creates or replaces a resource with compare-and-set.
func (s *Store) PutResource(ctx context.Context, r *registry.Resource, expect int64) (*registry.Resource, error) {
	var out *registry.Resource
	_, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		if r == nil {
			return nil, fmt.Errorf("resource: %w", registry.ErrInvalid)
		}
		prev := s.state.Resource(r.Key())
		next, err := registry.PrepareResource(prev, r, expect, now)
		if err != nil {
			return nil, err
		}
		next.Revision = rev
		out = next.Clone()
		return []registry.Event{{Revision: rev, Type: registry.EventPut, Kind: registry.KindResource, Resource: next, PrevResource: prev}}, nil
	})
	return out, err
}

// GetResource returns one resource.
func (s *Store) GetResource(ctx context.Context, key registry.ResourceKey) (*registry.Resource, error) {
	if r := s.state.Resource(key); r != nil {
		return r, nil
	}
	return nil, notFound("resource " + key.String())
}

// ListResources lists resources of a kind.
func (s *Store) ListResources(ctx context.Context, kind string) ([]*registry.Resource, int64, error) {
	out, rev := s.state.Resources(kind)
	return out, rev, nil
}

// DeleteResource deletes a resource with compare-and-set.
func (s *Store) DeleteResource(ctx context.Context, key registry.ResourceKey, expect int64) (*registry.Resource, error) {
	var out *registry.Resource
	_, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		prev := s.state.Resource(key)
		if prev == nil {
			return nil, notFound("resource " + key.String())
		}
		if err := registry.CheckExpect(key.String(), prev.Revision, true, expect); err != nil {
			return nil, err
		}
		out = prev.Clone()
		return []registry.Event{{Revision: rev, Type: registry.EventDelete, Kind: registry.KindResource, Resource: prev}}, nil
	})
	return out, err
}

// PutKV creates or replaces a key with compare-and-set.
func (s *Store) PutKV(ctx context.Context, kv *registry.KV, expect int64) (*registry.KV, error) {
	var out *registry.KV
	_, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		if kv == nil {
			return nil, fmt.Errorf("kv: %w", registry.ErrInvalid)
		}
		prev := s.state.KV(kv.Key)
		next, err := registry.PrepareKV(prev, kv, expect, now)
		if err != nil {
			return nil, err
		}
		next.Revision = rev
		if prev == nil {
			next.CreateRevision = rev
		}
		out = next.Clone()
		return []registry.Event{{Revision: rev, Type: registry.EventPut, Kind: registry.KindKV, KV: next, PrevKV: prev}}, nil
	})
	return out, err
}

// GetKV returns one key.
func (s *Store) GetKV(ctx context.Context, key string) (*registry.KV, error) {
	if kv := s.state.KV(key); kv != nil {
		return kv, nil
	}
	return nil, notFound("key " + key)
}

// ListKV lists keys with a prefix.
func (s *Store) ListKV(ctx context.Context, prefix string) ([]*registry.KV, int64, error) {
	out, rev := s.state.KVs(prefix)
	return out, rev, nil
}

// DeleteKV deletes one key with compare-and-set.
func (s *Store) DeleteKV(ctx context.Context, key string, expect int64) (*registry.KV, error) {
	var out *registry.KV
	_, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		prev := s.state.KV(key)
		if prev == nil {
			return nil, notFound("key " + key)
		}
		if err := registry.CheckExpect(key, prev.Revision, true, expect); err != nil {
			return nil, err
		}
		out = prev.Clone()
		return []registry.Event{{Revision: rev, Type: registry.EventDelete, Kind: registry.KindKV, KV: prev}}, nil
	})
	return out, err
}

// DeleteKVPrefix deletes every key with the prefix, each with its own revision.
func (s *Store) DeleteKVPrefix(ctx context.Context, prefix string) (int, error) {
	events, err := s.write(ctx, func(rev int64, now time.Time) ([]registry.Event, error) {
		kvs, _ := s.state.KVs(prefix)
		events := make([]registry.Event, 0, len(kvs))
		for _, kv := range kvs {
			if !strings.HasPrefix(kv.Key, prefix) {
				continue
			}
			events = append(events, registry.Event{Revision: rev, Type: registry.EventDelete, Kind: registry.KindKV, KV: kv})
			rev++
		}
		return events, nil
	})
	return len(events), err
}

// Watch delivers changes after revision from.
func (s *Store) Watch(ctx context.Context, from int64, f registry.WatchFilter) (registry.Watcher, error) {
	if s.closed() {
		return nil, registry.ErrClosed
	}
	return s.hub.Watch(ctx, from, f)
}
