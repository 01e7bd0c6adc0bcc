package etcd

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshbridge/meshbridge/registry"
)

// maxCASAttempts bounds optimistic write loops under contention.
const maxCASAttempts = 16

func notFound(what string) error { return fmt.Errorf("%s: %w", what, registry.ErrNotFound) }

// current reads one key from etcd (not the local index) for a write.
func (s *Store) current(ctx context.Context, key string) (registry.Event, int64, clientv3.LeaseID, bool, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return registry.Event{}, 0, 0, false, fmt.Errorf("etcd: get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return registry.Event{}, 0, 0, false, nil
	}
	kv := resp.Kvs[0]
	e, err := s.decode(kv)
	return e, kv.ModRevision, clientv3.LeaseID(kv.Lease), true, err
}

// casPut writes value at key if the key is still at modRev (0: absent), with
// opts (a lease, or IgnoreLease). It returns the new revision and whether
// the compare held.
func (s *Store) casPut(ctx context.Context, key string, modRev int64, value any, opts ...clientv3.OpOption) (int64, bool, error) {
	data, err := json.Marshal(value)
	if err != nil {
		return 0, false, fmt.Errorf("etcd: encode %s: %w", key, err)
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
		Then(clientv3.OpPut(key, string(data), opts...)).
		Commit()
	if err != nil {
		return 0, false, fmt.Errorf("etcd: write %s: %w", key, err)
	}
	return resp.Header.Revision, resp.Succeeded, nil
}

// casDelete deletes key if it is still at modRev.
func (s *Store) casDelete(ctx context.Context, key string, modRev int64) (int64, bool, error) {
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return 0, false, fmt.Errorf("etcd: delete %s: %w", key, err)
	}
	return resp.Header.Revision, resp.Succeeded, nil
}

// settle waits until the local index has applied rev, so a caller reads
// its own write.
func (s *Store) settle(ctx context.Context, rev int64) error {
	return s.hub.WaitFor(ctx, rev)
}

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
	key := s.instanceKey(probe.Key())
	for range maxCASAttempts {
		cur, modRev, lease, exists, err := s.current(ctx, key)
		if err != nil {
			return nil, err
		}
		var prev *registry.Instance
		if exists {
			prev = cur.Instance
		}
		inst, err := registry.PrepareRegister(prev, in, time.Now())
		if err != nil {
			return nil, err
		}
		var opts []clientv3.OpOption
		if inst.Ephemeral && inst.Lease.Duration > 0 {
			lease, err = s.ensureLease(ctx, lease, inst.Lease.Duration)
			if err != nil {
				return nil, err
			}
			opts = append(opts, clientv3.WithLease(lease))
		}
		rev, ok, err := s.casPut(ctx, key, modRev, inst, opts...)
		if err != nil {
			return nil, err
		}
		if ok {
			inst.Revision = rev
			if err := s.settle(ctx, rev); err != nil {
				return nil, err
			}
			s.state.Renew(inst.Key(), inst.Lease.LastRenewal)
			return inst, nil
		}
	}
	return nil, fmt.Errorf("etcd: register %s: too much contention: %w", key, registry.ErrConflict)
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
	key := s.instanceKey(k)
	for range maxCASAttempts {
		cur, modRev, lease, exists, err := s.current(ctx, key)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, notFound("instance " + k.String())
		}
		rev, ok, err := s.casDelete(ctx, key, modRev)
		if err != nil {
			return nil, err
		}
		if ok {
			if lease != 0 {
				// Best effort: the lease held only this key and expires anyway.
				if _, err := s.cli.Revoke(ctx, lease); err != nil {
					s.log.Debug("revoke lease", "error", err)
				}
			}
			return cur.Instance, s.settle(ctx, rev)
		}
	}
	return nil, fmt.Errorf("etcd: deregister %s: too much contention: %w", key, registry.ErrConflict)
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
	key := s.instanceKey(k)
	for range maxCASAttempts {
		cur, modRev, _, exists, err := s.current(ctx, key)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, notFound("instance " + k.String())
		}
		inst, err := next(cur.Instance, time.Now())
		if err != nil {
			return nil, err
		}
		rev, ok, err := s.casPut(ctx, key, modRev, inst, clientv3.WithIgnoreLease())
		if err != nil {
			return nil, err
		}
		if ok {
			inst.Revision = rev
			if err := s.settle(ctx, rev); err != nil {
				return nil, err
			}
			if local := s.state.Instance(k); local != nil {
				inst.Lease.LastRenewal = local.Lease.LastRenewal
			}
			return inst, nil
		}
	}
	return nil, fmt.Errorf("etcd: update %s: too much contention: %w", key, registry.ErrConflict)
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
	key := s.resourceKey(r.Key())
	for range maxCASAttempts {
		cur, modRev, _, exists, err := s.current(ctx, key)
		if err != nil {
			return nil, err
		}
		var prev *registry.Resource
		if exists {
			prev = cur.Resource
		}
		next, err := registry.PrepareResource(prev, r, expect, time.Now())
		if err != nil {
			return nil, err
		}
		rev, ok, err := s.casPut(ctx, key, modRev, next)
		if err != nil {
			return nil, err
		}
		if ok {
			next.Revision = rev
			return next, s.settle(ctx, rev)
		}
	}
	return nil, fmt.Errorf("etcd: put %s: too much contention: %w", key, registry.ErrConflict)
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
	key := s.resourceKey(k)
	for range maxCASAttempts {
		cur, modRev, _, exists, err := s.current(ctx, key)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, notFound("resource " + k.String())
		}
		if err := registry.CheckExpect(k.String(), modRev, true, expect); err != nil {
			return nil, err
		}
		rev, ok, err := s.casDelete(ctx, key, modRev)
		if err != nil {
			return nil, err
		}
		if ok {
			return cur.Resource, s.settle(ctx, rev)
		}
	}
	return nil, fmt.Errorf("etcd: delete %s: too much contention: %w", key, registry.ErrConflict)
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
	key := s.kvKey(kv.Key)
	for range maxCASAttempts {
		cur, modRev, _, exists, err := s.current(ctx, key)
		if err != nil {
			return nil, err
		}
		var prev *registry.KV
		if exists {
			prev = cur.KV
		}
		next, err := registry.PrepareKV(prev, kv, expect, time.Now())
		if err != nil {
			return nil, err
		}
		rev, ok, err := s.casPut(ctx, key, modRev, next)
		if err != nil {
			return nil, err
		}
		if ok {
			next.Revision = rev
			if prev == nil {
				next.CreateRevision = rev
			}
			return next, s.settle(ctx, rev)
		}
	}
	return nil, fmt.Errorf("etcd: put %s: too much contention: %w", key, registry.ErrConflict)
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
	ekey := s.kvKey(key)
	for range maxCASAttempts {
		cur, modRev, _, exists, err := s.current(ctx, ekey)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, notFound("key " + key)
		}
		if err := registry.CheckExpect(key, modRev, true, expect); err != nil {
			return nil, err
		}
		rev, ok, err := s.casDelete(ctx, ekey, modRev)
		if err != nil {
			return nil, err
		}
		if ok {
			return cur.KV, s.settle(ctx, rev)
		}
	}
	return nil, fmt.Errorf("etcd: delete %s: too much contention: %w", ekey, registry.ErrConflict)
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
