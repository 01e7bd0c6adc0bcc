package registry

// EventType says what happened to an object.
type EventType string

// Event types.
const (
	EventPut    EventType = "PUT"
	EventDelete EventType = "DELETE"
)

// ObjectKind says which space an event belongs to.
type ObjectKind string

// Object kinds.
const (
	KindInstance ObjectKind = "instance"
	KindResource ObjectKind = "resource"
	KindKV       ObjectKind = "kv"
)

// Event is one change. Exactly one of Instance, Resource and KV is set; for a
// delete it holds the object as it was just before. Prev, when known, holds
// the object before a put (nil for a create).
type Event struct {
	Revision int64      `json:"revision"`
	Type     EventType  `json:"type"`
	Kind     ObjectKind `json:"kind"`
	// Reason says why the change happened when it was not a client's request
	// ("expired" for a lease expiry).
	Reason   string    `json:"reason,omitempty"`
	Instance *Instance `json:"instance,omitempty"`
	Resource *Resource `json:"resource,omitempty"`
	KV       *KV       `json:"kv,omitempty"`

	PrevInstance *Instance `json:"prevInstance,omitempty"`
	PrevResource *Resource `json:"prevResource,omitempty"`
	PrevKV       *KV       `json:"prevKV,omitempty"`
}

// ReasonExpired marks deletes caused by lease expiry.
const ReasonExpired = "expired"

// WatchFilter narrows a watch; the zero value passes everything. Without
// Kinds, setting Service, ResourceKind or KeyPrefix limits the watch to the
// kinds those fields are about.
type WatchFilter struct {
	Kinds []ObjectKind
	// Service limits instance events to one service.
	Service *ServiceID
	// ResourceKind limits resource events to one kind.
	ResourceKind string
	// KeyPrefix limits KV events to keys with this prefix.
	KeyPrefix string
}

// Match reports whether e passes the filter.
func (f WatchFilter) Match(e *Event) bool {
	kinds := f.Kinds
	if len(kinds) == 0 {
		if f.Service != nil {
			kinds = append(kinds, KindInstance)
		}
		if f.ResourceKind != "" {
			kinds = append(kinds, KindResource)
		}
		if f.KeyPrefix != "" {
			kinds = append(kinds, KindKV)
		}
	}
	if len(kinds) > 0 {
		ok := false
		for _, k := range kinds {
			ok = ok || k == e.Kind
		}
		if !ok {
			return false
		}
	}
	switch e.Kind {
	case KindInstance:
		return f.Service == nil || e.Instance.ServiceID() == *f.Service
	case KindResource:
		return f.ResourceKind == "" || e.Resource.Kind == f.ResourceKind
	case KindKV:
		return f.KeyPrefix == "" || len(e.KV.Key) >= len(f.KeyPrefix) && e.KV.Key[:len(f.KeyPrefix)] == f.KeyPrefix
	}
	return true
}
