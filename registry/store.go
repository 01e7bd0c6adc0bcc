package registry

import "context"

// Store is the one registry, whole: what the embedded (registry/embedded,
// default, one process, durable on disk) and etcd (registry/etcd, shared by
// replicas) backends implement and registry/storetest checks. Users take
// the part they need instead: the protocol front-ends a Discovery, the
// control API every part but Close, helpers one part.
//
// Every successful change gets a new, strictly increasing revision, stamped on
// the object and delivered to watchers in order. Objects returned are copies:
// callers may modify them freely.
type Store interface {
	Discovery
	Resources

	// Close stops background work and releases files; pending acknowledged
	// writes are already durable.
	Close() error
}

// Discovery is the registry as the Eureka, Consul and Nacos front-ends
// serve it: instances, the key/value space and the change stream. Both
// backends implement it through Store, and so does the sidecar's mesh view
// (sidecar/meshview), which has no resources to offer.
type Discovery interface {
	Instances
	KeyValues
	Changes
}

// Instances holds service instances: registration, leases, status and
// lookups.
type Instances interface {
	// Register creates or replaces an instance (idempotent upsert). The
	// instance is normalised and validated; invalid input changes nothing and
	// returns an error wrapping ErrInvalid. Registration time is kept across
	// replacements; the lease is renewed.
	Register(ctx context.Context, inst *Instance) (*Instance, error)
	// Deregister removes an instance; ErrNotFound if it is not there.
	Deregister(ctx context.Context, key InstanceKey) (*Instance, error)
	// Renew refreshes an instance's lease. It does not create a revision.
	// It returns ErrNotFound for an unknown instance so front-ends can tell
	// the client to register again.
	Renew(ctx context.Context, key InstanceKey) error
	// SetStatusOverride sets an overriding status (Eureka's status override);
	// ClearStatusOverride removes it.
	SetStatusOverride(ctx context.Context, key InstanceKey, status Status) (*Instance, error)
	ClearStatusOverride(ctx context.Context, key InstanceKey) (*Instance, error)
	// Update applies fn to a copy of the instance and stores the result if
	// fn returns nil (health changes, metadata edits). Identity fields cannot
	// change. ErrNotFound if the instance is not there.
	Update(ctx context.Context, key InstanceKey, fn func(*Instance) error) (*Instance, error)
	Get(ctx context.Context, key InstanceKey) (*Instance, error)
	// List returns matching instances, sorted by key, and the store revision
	// they were read at.
	List(ctx context.Context, f Filter) ([]*Instance, int64, error)
	// Services summarises services in a namespace ("" for all), sorted.
	Services(ctx context.Context, namespace string) ([]ServiceSummary, int64, error)
}

// Resources holds typed resources (routing rules and other control-plane
// objects). The sidecar's mesh view leaves them out: an app has no
// business reading or writing rules through its sidecar.
type Resources interface {
	// PutResource creates or replaces a resource. expect is the revision the
	// caller last saw: -1 for any, 0 for create-only; a mismatch is ErrConflict.
	PutResource(ctx context.Context, r *Resource, expect int64) (*Resource, error)
	GetResource(ctx context.Context, key ResourceKey) (*Resource, error)
	// ListResources lists the resources of one kind ("" for all), sorted.
	ListResources(ctx context.Context, kind string) ([]*Resource, int64, error)
	DeleteResource(ctx context.Context, key ResourceKey, expect int64) (*Resource, error)
}

// KeyValues holds the small key/value space (Consul KV, Nacos config).
type KeyValues interface {
	// PutKV creates or replaces a key; expect as in PutResource.
	PutKV(ctx context.Context, kv *KV, expect int64) (*KV, error)
	GetKV(ctx context.Context, key string) (*KV, error)
	// ListKV lists keys with the prefix, sorted.
	ListKV(ctx context.Context, prefix string) ([]*KV, int64, error)
	// DeleteKV deletes one key (expect as in PutResource) and returns it.
	DeleteKV(ctx context.Context, key string, expect int64) (*KV, error)
	// DeleteKVPrefix deletes every key with the prefix and returns how many.
	DeleteKVPrefix(ctx context.Context, prefix string) (int, error)
}

// Changes is the change stream: the current revision and watches from any
// revision still in the retained history.
type Changes interface {
	// Watch delivers every change after revision from, in order. from = 0
	// means "from now". If from is older than the retained history the
	// error wraps ErrCompacted (see CompactedError): list again, then watch
	// from the listed revision. A watcher that falls too far behind is ended
	// with an ErrCompacted error on its Err.
	Watch(ctx context.Context, from int64, f WatchFilter) (Watcher, error)
	// Revision is the store's current revision.
	Revision() int64
}

// Watcher is a running watch.
type Watcher interface {
	// Events delivers changes; it is closed when the watch ends. The objects
	// in events are shared between watchers: treat them as read-only.
	Events() <-chan Event
	// Err says why the watch ended (nil after the caller's context ended).
	Err() error
	// Progress is the revision up to which every event was either delivered
	// to the channel or did not match the filter: after Stop and draining
	// the channel, a new watch from Progress misses nothing.
	Progress() int64
	// Stop ends the watch.
	Stop()
}

// Health-related capabilities that only some backends offer are exposed as
// optional interfaces, so front-ends can surface them without a type switch
// on concrete stores.

// SelfPreservation is implemented by stores that pause lease expiry when too
// many leases lapse at once.
type SelfPreservation interface {
	// SelfPreserving reports whether expiry is paused right now.
	SelfPreserving() bool
}
