package registry

import (
	"encoding/json"
	"time"
)

// Resource is a typed control-plane object (a routing rule, a policy, a mock
// definition). The store keeps its spec as raw JSON; the control package owns
// the kinds and validates specs before they reach the store.
type Resource struct {
	Kind     string            `json:"kind"`
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels,omitempty"`
	Spec     json.RawMessage   `json:"spec"`
	Created  time.Time         `json:"created,omitzero"`
	Updated  time.Time         `json:"updated,omitzero"`
	Revision int64             `json:"revision"`
}

// ResourceKey identifies a resource.
type ResourceKey struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Key returns the resource's identity.
func (r *Resource) Key() ResourceKey { return ResourceKey{Kind: r.Kind, Name: r.Name} }

// Clone returns a deep copy.
func (r *Resource) Clone() *Resource {
	if r == nil {
		return nil
	}
	c := *r
	c.Spec = append(json.RawMessage(nil), r.Spec...)
	if r.Labels != nil {
		c.Labels = make(map[string]string, len(r.Labels))
		for k, v := range r.Labels {
			c.Labels[k] = v
		}
	}
	return &c
}

// Validate checks the envelope; specs are validated by their kind.
func (r *Resource) Validate() error {
	switch {
	case !ValidName(r.Kind):
		return invalid("kind", "required")
	case !ValidName(r.Name):
		return invalid("name", NameRule)
	case len(r.Spec) == 0 || !json.Valid(r.Spec):
		return invalid("spec", "must be a JSON value")
	}
	return nil
}

// KV is one entry of the key/value space (Consul KV, Nacos config).
type KV struct {
	Key string `json:"key"`
	// Value is opaque bytes; JSON encodes it as base64.
	Value []byte `json:"value"`
	// Flags is an opaque number kept for Consul clients.
	Flags uint64 `json:"flags,omitempty"`
	// CreateRevision is the revision that created the key, Revision the last change.
	CreateRevision int64     `json:"createRevision"`
	Revision       int64     `json:"revision"`
	Updated        time.Time `json:"updated,omitzero"`
}

// MaxKVValue is the largest value a KV entry may hold (Consul's limit).
const MaxKVValue = 512 * 1024

// Clone returns a deep copy.
func (kv *KV) Clone() *KV {
	if kv == nil {
		return nil
	}
	c := *kv
	c.Value = append([]byte(nil), kv.Value...)
	return &c
}

// Validate checks a KV entry.
func (kv *KV) Validate() error {
	switch {
	case kv.Key == "" || len(kv.Key) > 1024:
		return invalid("key", "must be 1-1024 bytes")
	case len(kv.Value) > MaxKVValue:
		return invalid("value", "at most %d bytes", MaxKVValue)
	}
	return nil
}
