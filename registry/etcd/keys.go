package etcd

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/meshbridge/meshbridge/registry"
)

// Key layout under the prefix: i/<ns>/<group>/<service>/<id>,
// r/<kind>/<name>, k/<key>. Names never contain '/', KV keys may, which is
// why they come last.
func (s *Store) instanceKey(k registry.InstanceKey) string {
	return s.prefix + "i/" + k.Namespace + "/" + k.Group + "/" + k.ServiceKey + "/" + k.ID
}

func (s *Store) resourceKey(k registry.ResourceKey) string {
	return s.prefix + "r/" + k.Kind + "/" + k.Name
}

func (s *Store) kvKey(key string) string { return s.prefix + "k/" + key }

// decode turns an etcd key/value into an event object. Revisions come from
// etcd, not from the stored JSON.
func (s *Store) decode(kv *mvccpb.KeyValue) (registry.Event, error) {
	rel, ok := strings.CutPrefix(string(kv.Key), s.prefix)
	if !ok || len(rel) < 2 || rel[1] != '/' {
		return registry.Event{}, fmt.Errorf("etcd: key %q is not ours", kv.Key)
	}
	e := registry.Event{Revision: kv.ModRevision}
	switch rel[0] {
	case 'i':
		var inst registry.Instance
		if err := json.Unmarshal(kv.Value, &inst); err != nil {
			return e, fmt.Errorf("etcd: decode instance %q: %w", kv.Key, err)
		}
		inst.Revision = kv.ModRevision
		e.Kind, e.Instance = registry.KindInstance, &inst
	case 'r':
		var r registry.Resource
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			return e, fmt.Errorf("etcd: decode resource %q: %w", kv.Key, err)
		}
		r.Revision = kv.ModRevision
		e.Kind, e.Resource = registry.KindResource, &r
	case 'k':
		var v registry.KV
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return e, fmt.Errorf("etcd: decode kv %q: %w", kv.Key, err)
		}
		v.Revision, v.CreateRevision = kv.ModRevision, kv.CreateRevision
		e.Kind, e.KV = registry.KindKV, &v
	default:
		return e, fmt.Errorf("etcd: key %q is not ours", kv.Key)
	}
	return e, nil
}
