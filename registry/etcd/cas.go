package etcd

import (
	"context"
	"encoding/json"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshbridge/meshbridge/registry"
)

// maxCASAttempts bounds optimistic write loops under contention.
const maxCASAttempts = 16

// current is a key as etcd holds it right now.
type current struct {
	event  registry.Event // decoded object (zero when absent)
	modRev int64
	lease  clientv3.LeaseID
	exists bool
}

// write is what one attempt of an optimistic write wants done.
type write struct {
	put    any // the value to store (JSON-encoded)
	opts   []clientv3.OpOption
	delete bool // delete the key instead
}

// casWrite reads key from etcd, lets decide what to write against what is
// there, and commits only if the key did not change meanwhile; it retries
// a bounded number of times and returns the revision of the write. decide
// errors end the loop unchanged.
func (s *Store) casWrite(ctx context.Context, key string, decide func(cur current) (write, error)) (int64, error) {
	for range maxCASAttempts {
		cur, err := s.read(ctx, key)
		if err != nil {
			return 0, err
		}
		w, err := decide(cur)
		if err != nil {
			return 0, err
		}
		op := clientv3.OpDelete(key)
		if !w.delete {
			data, err := json.Marshal(w.put)
			if err != nil {
				return 0, fmt.Errorf("etcd: encode %s: %w", key, err)
			}
			op = clientv3.OpPut(key, string(data), w.opts...)
		}
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", cur.modRev)).
			Then(op).
			Commit()
		if err != nil {
			return 0, fmt.Errorf("etcd: write %s: %w", key, err)
		}
		if resp.Succeeded {
			return resp.Header.Revision, s.settle(ctx, resp.Header.Revision)
		}
	}
	return 0, fmt.Errorf("etcd: write %s: too much contention: %w", key, registry.ErrConflict)
}

// read fetches one key from etcd (not from the local index).
func (s *Store) read(ctx context.Context, key string) (current, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return current{}, fmt.Errorf("etcd: get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return current{}, nil
	}
	kv := resp.Kvs[0]
	e, err := s.decode(kv)
	return current{event: e, modRev: kv.ModRevision, lease: clientv3.LeaseID(kv.Lease), exists: true}, err
}

// settle waits until the local index has applied rev, so a caller reads
// its own write.
func (s *Store) settle(ctx context.Context, rev int64) error {
	return s.hub.WaitFor(ctx, rev)
}
