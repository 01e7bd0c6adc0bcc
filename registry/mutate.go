package registry

import (
	"fmt"
	"time"
)

// PrepareRegister builds the instance a store keeps for a registration: a
// normalised, validated copy of in that keeps prev's registration time and
// status override (Eureka keeps overrides across re-registration). prev is
// nil for a new instance.
func PrepareRegister(prev, in *Instance, now time.Time) (*Instance, error) {
	if in == nil {
		return nil, invalid("instance", "required")
	}
	inst := in.Clone()
	inst.Normalize()
	if err := inst.Validate(); err != nil {
		return nil, err
	}
	inst.Registered = now
	if prev != nil {
		inst.Registered = prev.Registered
		if inst.OverriddenStatus == "" {
			inst.OverriddenStatus = prev.OverriddenStatus
		}
	}
	inst.Updated = now
	inst.Lease.LastRenewal = now
	return inst, nil
}

// PrepareUpdate applies fn to a copy of prev and checks that identity fields
// did not change and the result is valid.
func PrepareUpdate(prev *Instance, fn func(*Instance) error, now time.Time) (*Instance, error) {
	next := prev.Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	if next.Key() != prev.Key() {
		return nil, invalid("id", "identity fields (namespace, group, service, id) cannot change in an update")
	}
	next.Service = prev.Service
	next.Normalize()
	if err := next.Validate(); err != nil {
		return nil, err
	}
	next.Registered = prev.Registered
	next.Updated = now
	return next, nil
}

// PrepareStatusOverride returns prev with the override set (or cleared when
// status is empty).
func PrepareStatusOverride(prev *Instance, status Status, now time.Time) (*Instance, error) {
	if status != "" && !status.Valid() {
		return nil, invalid("status", "unknown status %q", status)
	}
	next := prev.Clone()
	next.OverriddenStatus = status
	next.Updated = now
	return next, nil
}

// PrepareResource stamps a validated copy of r, keeping prev's creation time.
func PrepareResource(prev, r *Resource, expect int64, now time.Time) (*Resource, error) {
	if r == nil {
		return nil, invalid("resource", "required")
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if err := CheckExpect(r.Key().String(), prevRevision(prev), prev != nil, expect); err != nil {
		return nil, err
	}
	next := r.Clone()
	next.Created = now
	if prev != nil {
		next.Created = prev.Created
	}
	next.Updated = now
	return next, nil
}

// PrepareKV stamps a validated copy of kv, keeping prev's create revision.
func PrepareKV(prev, kv *KV, expect int64, now time.Time) (*KV, error) {
	if kv == nil {
		return nil, invalid("kv", "required")
	}
	if err := kv.Validate(); err != nil {
		return nil, err
	}
	var prevRev int64
	if prev != nil {
		prevRev = prev.Revision
	}
	if err := CheckExpect(kv.Key, prevRev, prev != nil, expect); err != nil {
		return nil, err
	}
	next := kv.Clone()
	next.Updated = now
	if prev != nil {
		next.CreateRevision = prev.CreateRevision
	}
	return next, nil
}

// CheckExpect implements the compare-and-set rule shared by resources and
// KV: -1 matches anything, 0 only a missing object, n only revision n.
func CheckExpect(what string, current int64, exists bool, expect int64) error {
	switch {
	case expect < 0:
		return nil
	case expect == 0 && exists:
		return fmt.Errorf("%s already exists at revision %d: %w", what, current, ErrConflict)
	case expect > 0 && !exists:
		return fmt.Errorf("%s does not exist (expected revision %d): %w", what, expect, ErrConflict)
	case expect > 0 && current != expect:
		return fmt.Errorf("%s is at revision %d, not %d: %w", what, current, expect, ErrConflict)
	}
	return nil
}

func prevRevision(r *Resource) int64 {
	if r == nil {
		return 0
	}
	return r.Revision
}

// String gives "kind/name".
func (k ResourceKey) String() string { return k.Kind + "/" + k.Name }
