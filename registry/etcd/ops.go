package etcd

import (
	"context"
	"fmt"
	"math"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshbridge/meshbridge/registry"
)

func notFound(what string) error { return fmt.Errorf("%s: %w", what, registry.ErrNotFound) }

// begin checks the store is open and bounds one operation.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if s.isClosed() {
		return nil, nil, registry.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	return ctx, cancel, nil
}

// leaseTTL is the etcd lease for an instance lease, in whole seconds.
func leaseTTL(d time.Duration) int64 {
	return max(int64(math.Ceil(d.Seconds())), 2)
}

// Register creates or replaces an instance; ephemeral instances with a lease
// duration get an etcd lease so they expire even if every replica is gone.
func (s *Store) Register(ctx context.Context, in *registry.Instance) (*registry.Instance, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if in == nil {
		return nil, fmt.Errorf("register: %w", registry.ErrInvalid)
	}
	probe := in.Clone()
	probe.Normalize()
	var inst *registry.Instance
	rev, err := s.casWrite(ctx, s.instanceKey(probe.Key()), func(cur current) (write, error) {
		var err error
		if inst, err = registry.PrepareRegister(cur.event.Instance, in, time.Now()); err != nil {
			return write{}, err
		}
		w := write{put: inst}
		if inst.Ephemeral && inst.Lease.Duration > 0 {
			lease, err := s.ensureLease(ctx, cur.lease, inst.Lease.Duration)
			if err != nil {
				return write{}, err
			}
			w.opts = append(w.opts, clientv3.WithLease(lease))
		}
		return w, nil
	})
	if err != nil {
		return nil, err
	}
	inst.Revision = rev
	s.state.Renew(inst.Key(), inst.Lease.LastRenewal)
	return inst, nil
}

// ensureLease refreshes an existing lease with the right TTL or grants a new one.
func (s *Store) ensureLease(ctx context.Context, lease clientv3.LeaseID, d time.Duration) (clientv3.LeaseID, error) {
	if lease != 0 {
		if ttl, err := s.cli.TimeToLive(ctx, lease); err == nil && ttl.TTL > 0 && ttl.GrantedTTL == leaseTTL(d) {
			if _, err := s.cli.KeepAliveOnce(ctx, lease); err == nil {
				return lease, nil
			}
		}
	}
	g, err := s.cli.Grant(ctx, leaseTTL(d))
	if err != nil {
		return 0, fmt.Errorf("etcd: grant lease: %w", err)
	}
	return g.ID, nil
}

// Deregister removes an instance and revokes its lease.
func (s *Store) Deregister(ctx context.Context, k registry.InstanceKey) (*registry.Instance, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var gone current
	_, err = s.casWrite(ctx, s.instanceKey(k), func(cur current) (write, error) {
		if !cur.exists {
			return write{}, notFound("instance " + k.String())
		}
		gone = cur
		return write{delete: true}, nil
	})
	if err != nil {
		return nil, err
	}
	if gone.lease != 0 {
		// Best effort: the lease held only this key and expires anyway.
		if _, err := s.cli.Revoke(ctx, gone.lease); err != nil {
			s.log.Debug("revoke lease", "error", err)
		}
	}
	return gone.event.Instance, nil
}

// Renew keeps an instance's etcd lease alive.
func (s *Store) Renew(ctx context.Context, k registry.InstanceKey) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if s.state.Stored(k) == nil {
		return notFound("instance " + k.String())
	}
	s.leaseMu.Lock()
	lease := s.leases[k]
	s.leaseMu.Unlock()
	if lease != 0 {
		if _, err := s.cli.KeepAliveOnce(ctx, lease); err != nil {
			// The lease is gone: the instance expired (its delete is on the way).
			return fmt.Errorf("instance %s: lease: %v: %w", k.String(), err, registry.ErrNotFound)
		}
	}
	s.state.Renew(k, time.Now())
	return nil
}

// SetStatusOverride sets an overriding status.
func (s *Store) SetStatusOverride(ctx context.Context, k registry.InstanceKey, status registry.Status) (*registry.Instance, error) {
	if status == "" {
		return nil, fmt.Errorf("status override: status: required: %w", registry.ErrInvalid)
	}
	return s.update(ctx, k, func(prev *registry.Instance, now time.Time) (*registry.Instance, error) {
		return registry.PrepareStatusOverride(prev, status, now)
	})
}

// ClearStatusOverride removes the overriding status.
func (s *Store) ClearStatusOverride(ctx context.Context, k registry.InstanceKey) (*registry.Instance, error) {
	return s.update(ctx, k, func(prev *registry.Instance, now time.Time) (*registry.Instance, error) {
		return registry.PrepareStatusOverride(prev, "", now)
	})
}

// Update applies fn to a copy of the instance.
func (s *Store) Update(ctx context.Context, k registry.InstanceKey, fn func(*registry.Instance) error) (*registry.Instance, error) {
	return s.update(ctx, k, func(prev *registry.Instance, now time.Time) (*registry.Instance, error) {
		return registry.PrepareUpdate(prev, fn, now)
	})
}

func (s *Store) update(ctx context.Context, k registry.InstanceKey, next func(*registry.Instance, time.Time) (*registry.Instance, error)) (*registry.Instance, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var inst *registry.Instance
	rev, err := s.casWrite(ctx, s.instanceKey(k), func(cur current) (write, error) {
		if !cur.exists {
			return write{}, notFound("instance " + k.String())
		}
		var err error
		inst, err = next(cur.event.Instance, time.Now())
		return write{put: inst, opts: []clientv3.OpOption{clientv3.WithIgnoreLease()}}, err
	})
	if err != nil {
		return nil, err
	}
	inst.Revision = rev
	if local := s.state.Instance(k); local != nil {
		inst.Lease.LastRenewal = local.Lease.LastRenewal
	}
	return inst, nil
}

// Get returns one instance from the local index.
func (s *Store) Get(ctx context.Context, k registry.InstanceKey) (*registry.Instance, error) {
	if inst := s.state.Instance(k); inst != nil {
		return inst, nil
	}
	return nil, notFound("instance " + k.String())
}

// List returns matching instances from the local index.
func (s *Store) List(ctx context.Context, f registry.Filter) ([]*registry.Instance, int64, error) {
	out, rev := s.state.List(f)
	return out, rev, nil
}

// Services summarises services from the local index.
func (s *Store) Services(ctx context.Context, namespace string) ([]registry.ServiceSummary, int64, error) {
	out, rev := s.state.Services(namespace)
	return out, rev, nil
}

// PutResource creates or replaces a resource with compare-and-set.
func (s *Store) PutResource(ctx context.Context, r *registry.Resource, expect int64) (*registry.Resource, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if r == nil {
		return nil, fmt.Errorf("resource: %w", registry.ErrInvalid)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var next *registry.Resource
	rev, err := s.casWrite(ctx, s.resourceKey(r.Key()), func(cur current) (write, error) {
		var err error
		next, err = registry.PrepareResource(cur.event.Resource, r, expect, time.Now())
		return write{put: next}, err
	})
	if err != nil {
		return nil, err
	}
	next.Revision = rev
	return next, nil
}

// GetResource returns one resource from the local index.
func (s *Store) GetResource(ctx context.Context, k registry.ResourceKey) (*registry.Resource, error) {
	if r := s.state.Resource(k); r != nil {
		return r, nil
	}
	return nil, notFound("resource " + k.String())
}

// ListResources lists resources of a kind from the local index.
func (s *Store) ListResources(ctx context.Context, kind string) ([]*registry.Resource, int64, error) {
	out, rev := s.state.Resources(kind)
	return out, rev, nil
}

// DeleteResource deletes a resource with compare-and-set.
func (s *Store) DeleteResource(ctx context.Context, k registry.ResourceKey, expect int64) (*registry.Resource, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var gone *registry.Resource
	_, err = s.casWrite(ctx, s.resourceKey(k), func(cur current) (write, error) {
		if !cur.exists {
			return write{}, notFound("resource " + k.String())
		}
		gone = cur.event.Resource
		return write{delete: true}, registry.CheckExpect(k.String(), cur.modRev, true, expect)
	})
	return gone, err
}

// PutKV creates or replaces a key with compare-and-set.
func (s *Store) PutKV(ctx context.Context, kv *registry.KV, expect int64) (*registry.KV, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	if kv == nil {
		return nil, fmt.Errorf("kv: %w", registry.ErrInvalid)
	}
	if err := kv.Validate(); err != nil {
		return nil, err
	}
	var next *registry.KV
	created := false
	rev, err := s.casWrite(ctx, s.kvKey(kv.Key), func(cur current) (write, error) {
		var err error
		next, err = registry.PrepareKV(cur.event.KV, kv, expect, time.Now())
		created = !cur.exists
		return write{put: next}, err
	})
	if err != nil {
		return nil, err
	}
	next.Revision = rev
	if created {
		next.CreateRevision = rev
	}
	return next, nil
}

// GetKV reads one key from the local index.
func (s *Store) GetKV(ctx context.Context, key string) (*registry.KV, error) {
	if kv := s.state.KV(key); kv != nil {
		return kv, nil
	}
	return nil, notFound("key " + key)
}

// ListKV lists keys with a prefix from the local index.
func (s *Store) ListKV(ctx context.Context, prefix string) ([]*registry.KV, int64, error) {
	out, rev := s.state.KVs(prefix)
	return out, rev, nil
}

// DeleteKV deletes one key with compare-and-set.
func (s *Store) DeleteKV(ctx context.Context, key string, expect int64) (*registry.KV, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var gone *registry.KV
	_, err = s.casWrite(ctx, s.kvKey(key), func(cur current) (write, error) {
		if !cur.exists {
			return write{}, notFound("key " + key)
		}
		gone = cur.event.KV
		return write{delete: true}, registry.CheckExpect(key, cur.modRev, true, expect)
	})
	return gone, err
}

// DeleteKVPrefix deletes every key with the prefix in one transaction.
func (s *Store) DeleteKVPrefix(ctx context.Context, prefix string) (int, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer cancel()
	resp, err := s.cli.Delete(ctx, s.kvKey(prefix), clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("etcd: delete prefix %q: %w", prefix, err)
	}
	if resp.Deleted > 0 {
		if err := s.settle(ctx, resp.Header.Revision); err != nil {
			return 0, err
		}
	}
	return int(resp.Deleted), nil
}
