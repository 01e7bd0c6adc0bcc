package meshview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/index"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Upstream is the control plane as the view needs it: the app's
// registration and the key/value space are forwarded to it. sidecar.Control
// embeds it, and *control.Client implements both.
type Upstream interface {
	Register(ctx context.Context, inst *registry.Instance) (*registry.Instance, error)
	Deregister(ctx context.Context, key registry.InstanceKey) error
	Renew(ctx context.Context, key registry.InstanceKey) error
	SetStatus(ctx context.Context, key registry.InstanceKey, status registry.Status) (*registry.Instance, error)
	ClearStatus(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error)
	GetKV(ctx context.Context, key string) (*registry.KV, error)
	PutKV(ctx context.Context, kv *registry.KV, expect int64) (*registry.KV, error)
	ListKV(ctx context.Context, prefix string) ([]*registry.KV, int64, error)
	DeleteKV(ctx context.Context, key string, expect int64) (*registry.KV, error)
	DeleteKVPrefix(ctx context.Context, prefix string) (int, error)
	WatchOnce(ctx context.Context, index int64, wait time.Duration, f registry.WatchFilter) (control.WatchResult, error)
}

// Options configure a View.
type Options struct {
	Upstream  Upstream
	Allocator *Allocator
	// Namespace is the namespace the view shows (the sidecar's).
	Namespace string
	// IngressHost and IngressPort are what the app's registrations are
	// rewritten to: the sidecar's advertised ingress address.
	IngressHost string
	IngressPort int
	// OnRegister and OnDeregister tell the sidecar which instances are the
	// local app's (for the health check); optional.
	OnRegister   func(registry.InstanceKey)
	OnDeregister func(registry.InstanceKey)
	// KVWait is how long one request for KV changes waits at the control
	// plane (default 60s; the control plane may cap it). KVMaxBackoff caps
	// the delay between attempts while it is unreachable (default 5s).
	KVWait, KVMaxBackoff time.Duration
	Logger               *slog.Logger
}

// Metadata keys the view adds to rewritten registrations.
const (
	MetaAppHost = "mesh.appHost"
	MetaAppPort = "mesh.appPort"
	// MetaLoopback marks the view's per-service instances.
	MetaLoopback = "mesh.loopback"
	// OriginMesh is the origin of the view's per-service instances.
	OriginMesh = "mesh"
)

// View is the registry.Discovery mounted under the discovery front-ends.
// It has no resources: rules are the control plane's, and an app has no
// business reading or writing them through its sidecar.
type View struct {
	opts   Options
	logger *slog.Logger

	mu  sync.Mutex // serialises local writes (revision order)
	rev int64
	// kvOffset places control-plane KV revisions among the view's (kv.go).
	kvOffset int64
	state    *index.State
	hub      *index.Hub
	// own holds the app's registrations as the app gave them.
	own map[registry.InstanceKey]*registry.Instance
	// synthetic holds the per-service instance currently in the index.
	synthetic map[string]*registry.Instance
}

// New builds a view; it serves nothing until the front-ends are mounted
// and Follow is called with tables.
func New(o Options) *View {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Namespace == "" {
		o.Namespace = registry.DefaultNamespace
	}
	if o.KVWait <= 0 {
		o.KVWait = 60 * time.Second
	}
	if o.KVMaxBackoff <= 0 {
		o.KVMaxBackoff = 5 * time.Second
	}
	return &View{
		opts: o, logger: o.Logger.With("component", "sidecar.meshview"),
		state: index.NewState(), hub: index.NewHub(0, 0),
		own: map[registry.InstanceKey]*registry.Instance{}, synthetic: map[string]*registry.Instance{},
	}
}

// Follow updates the per-service instances from a routing table: one
// instance per service at its loopback endpoint, UP while the service has a
// healthy instance. It is meant for table.Holder.OnSwap.
func (v *View) Follow(t *table.Table) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var events []registry.Event
	seen := map[string]bool{}
	for _, s := range t.Services() {
		host, port, err := v.opts.Allocator.Endpoint(s.Key)
		if err != nil {
			v.logger.Warn("service left out of discovery answers", "service", s.Key, "error", err)
			continue
		}
		seen[s.Key] = true
		status := registry.StatusDown
		for _, e := range s.Endpoints {
			if e.Healthy {
				status = registry.StatusUp
				break
			}
		}
		prev := v.synthetic[s.Key]
		if prev != nil && prev.Status == status && prev.Port == port && prev.Service == s.Name {
			continue
		}
		inst := &registry.Instance{
			ID: "mesh-" + s.Key, Service: s.Name, Namespace: v.opts.Namespace, Group: registry.DefaultGroup,
			Host: host, Port: port, Status: status, Origin: OriginMesh,
			Metadata: map[string]string{MetaLoopback: "true"},
		}
		inst.Normalize()
		events = append(events, v.putLocked(inst, prev))
		v.synthetic[s.Key] = inst
	}
	for key, inst := range v.synthetic {
		if !seen[key] {
			events = append(events, v.deleteLocked(inst))
			delete(v.synthetic, key)
		}
	}
	v.publishLocked(events)
}

func (v *View) putLocked(inst, prev *registry.Instance) registry.Event {
	v.rev++
	now := time.Now()
	inst.Revision, inst.Updated = v.rev, now
	if inst.Registered.IsZero() {
		inst.Registered = now
	}
	inst.Lease.LastRenewal = now
	return registry.Event{Revision: v.rev, Type: registry.EventPut, Kind: registry.KindInstance, Instance: inst, PrevInstance: prev}
}

func (v *View) deleteLocked(inst *registry.Instance) registry.Event {
	v.rev++
	return registry.Event{Revision: v.rev, Type: registry.EventDelete, Kind: registry.KindInstance, Instance: inst}
}

func (v *View) publishLocked(events []registry.Event) {
	if len(events) == 0 {
		return
	}
	v.state.Apply(events...)
	v.hub.Publish(events...)
}

// rewrite returns what the control plane stores for an app registration:
// the sidecar's ingress address, the app's own address kept in metadata.
func (v *View) rewrite(in *registry.Instance) *registry.Instance {
	out := in.Clone()
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	port := in.Port
	if port == 0 && in.SecureEnabled {
		port = in.SecurePort
	}
	out.Metadata[MetaAppHost] = in.Host
	out.Metadata[MetaAppPort] = strconv.Itoa(port)
	out.Host, out.Port = v.opts.IngressHost, v.opts.IngressPort
	// Sidecar to sidecar is plain HTTP for now (mTLS comes later).
	out.SecurePort, out.SecureEnabled, out.Scheme = 0, false, "http"
	return out
}

// local is the app's instance as the view shows it: at its service's
// loopback endpoint, like every other instance the app can discover.
func (v *View) local(own *registry.Instance) *registry.Instance {
	out := own.Clone()
	if host, port, err := v.opts.Allocator.Endpoint(own.ServiceKey); err == nil {
		out.Host, out.Port = host, port
		out.SecurePort, out.SecureEnabled, out.Scheme = 0, false, "http"
	}
	return out
}

// Register implements registry.Instances: the app registers itself.
func (v *View) Register(ctx context.Context, inst *registry.Instance) (*registry.Instance, error) {
	if inst == nil {
		return nil, &registry.ValidationError{Field: "instance", Message: "required"}
	}
	in := inst.Clone()
	in.Namespace = v.opts.Namespace
	in.Normalize()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if _, err := v.opts.Upstream.Register(ctx, v.rewrite(in)); err != nil {
		return nil, fmt.Errorf("meshview: register %s: %w", in.Key(), err)
	}
	v.mu.Lock()
	prev := v.own[in.Key()]
	if prev != nil {
		in.Registered = prev.Registered
	}
	loc := v.local(in)
	loc.Registered = in.Registered
	var prevLocal *registry.Instance
	if prev != nil {
		prevLocal = v.state.Instance(in.Key())
	}
	ev := v.putLocked(loc, prevLocal)
	in.Revision, in.Registered, in.Updated, in.Lease.LastRenewal = loc.Revision, loc.Registered, loc.Updated, loc.Lease.LastRenewal
	v.own[in.Key()] = in
	v.publishLocked([]registry.Event{ev})
	v.mu.Unlock()
	if v.opts.OnRegister != nil {
		v.opts.OnRegister(in.Key())
	}
	return in.Clone(), nil
}

// Deregister implements registry.Instances.
func (v *View) Deregister(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	err := v.opts.Upstream.Deregister(ctx, key)
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		return nil, fmt.Errorf("meshview: deregister %s: %w", key, err)
	}
	v.mu.Lock()
	own := v.own[key]
	delete(v.own, key)
	if own != nil {
		if cur := v.state.Instance(key); cur != nil {
			v.publishLocked([]registry.Event{v.deleteLocked(cur)})
		}
	}
	v.mu.Unlock()
	if own == nil {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("meshview: deregister %s: %w", key, registry.ErrNotFound)
	}
	if v.opts.OnDeregister != nil {
		v.opts.OnDeregister(key)
	}
	return own.Clone(), nil
}

// Renew implements registry.Instances; ErrNotFound tells the client to
// register again (the control plane forgot it).
func (v *View) Renew(ctx context.Context, key registry.InstanceKey) error {
	if err := v.opts.Upstream.Renew(ctx, key); err != nil {
		return fmt.Errorf("meshview: renew %s: %w", key, err)
	}
	v.state.Renew(key, time.Now())
	return nil
}

// SetStatusOverride implements registry.Instances.
func (v *View) SetStatusOverride(ctx context.Context, key registry.InstanceKey, status registry.Status) (*registry.Instance, error) {
	if _, err := v.opts.Upstream.SetStatus(ctx, key, status); err != nil {
		return nil, fmt.Errorf("meshview: status %s: %w", key, err)
	}
	return v.updateOwn(key, func(i *registry.Instance) { i.OverriddenStatus = status })
}

// ClearStatusOverride implements registry.Instances.
func (v *View) ClearStatusOverride(ctx context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	if _, err := v.opts.Upstream.ClearStatus(ctx, key); err != nil {
		return nil, fmt.Errorf("meshview: status %s: %w", key, err)
	}
	return v.updateOwn(key, func(i *registry.Instance) { i.OverriddenStatus = "" })
}

// updateOwn applies fn to the local copy of an app registration.
func (v *View) updateOwn(key registry.InstanceKey, fn func(*registry.Instance)) (*registry.Instance, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	own := v.own[key]
	if own == nil {
		return nil, fmt.Errorf("meshview: %s: %w", key, registry.ErrNotFound)
	}
	next := own.Clone()
	fn(next)
	loc := v.local(next)
	ev := v.putLocked(loc, v.state.Instance(key))
	next.Revision, next.Updated = loc.Revision, loc.Updated
	v.own[key] = next
	v.publishLocked([]registry.Event{ev})
	return next.Clone(), nil
}

// Update implements registry.Instances for the app's own instances (health
// checks, metadata); the result is registered again upstream.
func (v *View) Update(ctx context.Context, key registry.InstanceKey, fn func(*registry.Instance) error) (*registry.Instance, error) {
	v.mu.Lock()
	own := v.own[key]
	v.mu.Unlock()
	if own == nil {
		return nil, fmt.Errorf("meshview: update %s: %w", key, registry.ErrNotFound)
	}
	next, err := registry.PrepareUpdate(own, fn, time.Now())
	if err != nil {
		return nil, err
	}
	if _, err := v.opts.Upstream.Register(ctx, v.rewrite(next)); err != nil {
		return nil, fmt.Errorf("meshview: update %s: %w", key, err)
	}
	return v.updateOwn(key, func(i *registry.Instance) { *i = *next.Clone() })
}

// Get implements registry.Instances.
func (v *View) Get(_ context.Context, key registry.InstanceKey) (*registry.Instance, error) {
	v.mu.Lock()
	own := v.own[key]
	v.mu.Unlock()
	if own != nil {
		return own.Clone(), nil
	}
	if inst := v.state.Instance(key); inst != nil {
		return inst, nil
	}
	return nil, fmt.Errorf("meshview: %s: %w", key, registry.ErrNotFound)
}

// List implements registry.Instances.
func (v *View) List(_ context.Context, f registry.Filter) ([]*registry.Instance, int64, error) {
	list, rev := v.state.List(f)
	return list, rev, nil
}

// Services implements registry.Instances.
func (v *View) Services(_ context.Context, namespace string) ([]registry.ServiceSummary, int64, error) {
	list, rev := v.state.Services(namespace)
	return list, rev, nil
}

// Watch implements registry.Changes over the view's own revisions.
func (v *View) Watch(ctx context.Context, from int64, f registry.WatchFilter) (registry.Watcher, error) {
	return v.hub.Watch(ctx, from, f)
}

// Revision implements registry.Changes.
func (v *View) Revision() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.rev
}

// Close ends the view's watches.
func (v *View) Close() error {
	v.hub.Close()
	return nil
}

var _ registry.Discovery = (*View)(nil)
