package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/meshbridge/meshbridge/plugins/sdk"
	"github.com/meshbridge/meshbridge/registry"
)

// TransformingStore wraps store so that every Register, from any API (the
// Eureka, Consul, Nacos and control front-ends all call Register), first
// runs the instance transformers in order, and so does every Update that
// changes what a client controls (metadata, tags, address, weight...;
// health and status changes alone call no plugin). A rejection fails the
// registration with a *RejectedError, which wraps registry.ErrInvalid; a
// failed call of a fail-closed transformer fails it with a *CallError (the
// front-end's 5xx), of a fail-open one skips that transformer. Everything
// else goes straight to store. It fails if a plugin is not an instance
// transformer. Without transformers it returns store itself: there is
// nothing to run, and an Update would only pay for a preview.
func TransformingStore(store registry.Store, transformers ...*Plugin) (registry.Store, error) {
	for _, t := range transformers {
		if !t.Info().Instances {
			return nil, fmt.Errorf("plugins: %q is not an instance transformer plugin", t.Name())
		}
	}
	if len(transformers) == 0 {
		return store, nil
	}
	return &transformingStore{Store: store, transformers: transformers}, nil
}

type transformingStore struct {
	registry.Store
	transformers []*Plugin
}

// Unwrap implements registry.Unwrapper: the wrapped store's optional
// capabilities (self-preservation, election) stay visible through it.
func (s *transformingStore) Unwrap() registry.Store { return s.Store }

// Register transforms inst, then registers the result.
func (s *transformingStore) Register(ctx context.Context, inst *registry.Instance) (*registry.Instance, error) {
	out, err := Transform(ctx, inst, s.transformers...)
	if err != nil {
		return nil, err
	}
	return s.Store.Register(ctx, out)
}

// errChangedMeanwhile makes Update try again: the instance changed between
// the preview the plugins saw and the write.
var errChangedMeanwhile = errors.New("instance changed during the update")

// Update runs fn; when the result differs from the stored instance in a
// field a client controls, the transformers amend (or reject) the result
// as on a registration. The plugins are called outside the store's write,
// on a preview, and the write only lands if the instance is still the one
// previewed.
func (s *transformingStore) Update(ctx context.Context, key registry.InstanceKey, fn func(*registry.Instance) error) (*registry.Instance, error) {
	const attempts = 5
	for range attempts {
		cur, err := s.Store.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		preview := cur.Clone()
		if err := fn(preview); err != nil {
			return nil, err
		}
		apply := fn
		if clientFieldsChanged(cur, preview) {
			out, err := Transform(ctx, preview, s.transformers...)
			if err != nil {
				return nil, err
			}
			apply = func(i *registry.Instance) error {
				if err := fn(i); err != nil {
					return err
				}
				copyClientFields(i, out)
				return nil
			}
		}
		res, err := s.Store.Update(ctx, key, func(i *registry.Instance) error {
			if i.Revision != cur.Revision {
				return errChangedMeanwhile
			}
			return apply(i)
		})
		if !errors.Is(err, errChangedMeanwhile) {
			return res, err
		}
	}
	return nil, fmt.Errorf("plugins: update %s: %w: it kept changing during %d attempts", key, registry.ErrConflict, attempts)
}

// clientFieldsChanged reports whether b differs from a in what a client
// registers and a transformer may amend, health and status aside.
func clientFieldsChanged(a, b *registry.Instance) bool {
	return a.Cluster != b.Cluster || a.Zone != b.Zone || a.Host != b.Host || a.Port != b.Port ||
		a.SecurePort != b.SecurePort || a.SecureEnabled != b.SecureEnabled || a.Scheme != b.Scheme ||
		a.Weight != b.Weight || a.Disabled != b.Disabled ||
		!maps.Equal(a.Metadata, b.Metadata) || !slices.Equal(a.Tags, b.Tags) || !maps.Equal(a.Labels, b.Labels)
}

// copyClientFields sets on dst what the transformers decided in src.
func copyClientFields(dst, src *registry.Instance) {
	dst.Cluster, dst.Zone, dst.Host, dst.Port = src.Cluster, src.Zone, src.Host, src.Port
	dst.SecurePort, dst.SecureEnabled, dst.Scheme = src.SecurePort, src.SecureEnabled, src.Scheme
	dst.Weight, dst.Disabled = src.Weight, src.Disabled
	dst.Metadata, dst.Tags, dst.Labels = maps.Clone(src.Metadata), slices.Clone(src.Tags), maps.Clone(src.Labels)
}

// Transform runs transformers in order over a copy of inst and returns the
// amended copy; inst is not changed. The transformers see the instance with
// defaults filled in; an instance that is invalid to begin with fails with
// its validation error and no plugin is called. The syncer calls this on
// each record it copies; the registry-adapter gets it through
// TransformingStore.
func Transform(ctx context.Context, inst *registry.Instance, transformers ...*Plugin) (*registry.Instance, error) {
	if inst == nil {
		return nil, fmt.Errorf("plugins: transform: %w: no instance", registry.ErrInvalid)
	}
	if len(transformers) == 0 {
		return inst, nil
	}
	// Plugins see defaults, but only the labels the client set: labels
	// derived from metadata are derived again by the store after the
	// plugins changed the metadata.
	view := inst.Clone()
	explicitLabels := maps.Clone(inst.Labels)
	view.Normalize()
	if err := view.Validate(); err != nil {
		return nil, err
	}
	view.Labels = explicitLabels

	cur := toSDKInstance(view)
	for _, t := range transformers {
		out, err := t.TransformInstance(ctx, cur)
		var callErr *CallError
		switch {
		case err == nil:
			cur = out
		case errors.As(err, &callErr) && t.FailOpen():
			continue
		default:
			return nil, err
		}
	}
	// view is this call's own copy: the result is built on it.
	applySDKInstance(view, cur)
	// A plugin's mistake must not be reported as the client's bad input.
	check := view.Clone()
	check.Normalize()
	if err := check.Validate(); err != nil {
		return nil, fmt.Errorf("plugins: transform %s: %w: the transformers produced an invalid instance: %v", inst.ID, ErrFailed, err)
	}
	return view, nil
}

func toSDKInstance(i *registry.Instance) *sdk.Instance {
	return &sdk.Instance{
		ID: i.ID, Service: i.Service, Namespace: i.Namespace, Group: i.Group,
		Cluster: i.Cluster, Zone: i.Zone, Host: i.Host, Port: i.Port, SecurePort: i.SecurePort,
		SecureEnabled: i.SecureEnabled, Scheme: i.Scheme, Status: string(i.Status), Health: string(i.Health),
		Weight: i.Weight, Disabled: i.Disabled, Ephemeral: i.Ephemeral,
		Metadata: maps.Clone(i.Metadata), Tags: append([]string(nil), i.Tags...), Labels: maps.Clone(i.Labels),
		Origin: i.Origin,
	}
}

// applySDKInstance copies the fields a plugin may change onto i.
func applySDKInstance(i *registry.Instance, s *sdk.Instance) {
	i.Cluster, i.Zone, i.Host = s.Cluster, s.Zone, s.Host
	i.Port, i.SecurePort, i.SecureEnabled, i.Scheme = s.Port, s.SecurePort, s.SecureEnabled, s.Scheme
	i.Status, i.Health = registry.Status(s.Status), registry.Health(s.Health)
	i.Weight, i.Disabled = s.Weight, s.Disabled
	i.Metadata, i.Tags, i.Labels = s.Metadata, s.Tags, s.Labels
}
