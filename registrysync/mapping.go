package registrysync

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/meshbridge/meshbridge/registry"
)

// MetaDigest is the metadata key on every copy that holds a digest of
// what the syncer wrote (the copy without its markers). A syncer that
// starts, or a replica that takes over, compares it with what it would
// write, so that copies already right are not written again, whatever
// the target registry does to the fields it stores.
const MetaDigest = "meshbridge-sync-digest"

// mapping turns the instances of one flow's source into the copies it
// writes: which services, and how namespaces, groups, zones, metadata
// keys and statuses are carried.
type mapping struct {
	include, exclude                    []string
	namespaces, groups, zones, metadata map[string]string
	status                              map[registry.Status]registry.Status
}

// mappings compiles a pair into the mapping of its from->to flow and,
// for direction both, of its to->from flow: the same services and
// statuses, the other maps turned round.
func mappings(p PairConfig) (forward, back *mapping) {
	lower := func(globs []string) []string {
		out := make([]string, len(globs))
		for i, g := range globs {
			out[i] = strings.ToLower(g)
		}
		return out
	}
	forward = &mapping{
		include: lower(p.Services.Include), exclude: lower(p.Services.Exclude),
		namespaces: p.Namespaces, groups: p.Groups, zones: p.Zones, metadata: p.Metadata, status: p.Status,
	}
	if p.Direction != Both {
		return forward, nil
	}
	invert := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			if v != "" { // a dropped key has nothing to come back as
				out[v] = k
			}
		}
		return out
	}
	back = &mapping{
		include: forward.include, exclude: forward.exclude,
		namespaces: invert(p.Namespaces), groups: invert(p.Groups), zones: invert(p.Zones),
		metadata: invert(p.Metadata), status: p.Status,
	}
	return forward, back
}

// wants reports whether the flow copies service (any case).
func (m *mapping) wants(service string) bool {
	name := strings.ToLower(service)
	match := func(globs []string) bool {
		for _, g := range globs {
			if ok, _ := path.Match(g, name); ok {
				return true
			}
		}
		return false
	}
	return (len(m.include) == 0 || match(m.include)) && !match(m.exclude)
}

func mapped(m map[string]string, v string) string {
	if to, ok := m[v]; ok {
		return to
	}
	return v
}

// copyOf is the copy of inst the flow writes, before transformers and
// markers: the fields every registry carries in some form, mapped. What
// a registry keeps for its own protocol (attributes, leases, origin,
// revisions) is not copied: each target's sink sets its own.
func (m *mapping) copyOf(inst *registry.Instance) *registry.Instance {
	ns := strings.TrimSpace(inst.Namespace)
	if ns == "" {
		ns = registry.DefaultNamespace
	}
	group := strings.TrimSpace(inst.Group)
	if group == "" {
		group = registry.DefaultGroup
	}
	c := &registry.Instance{
		ID: inst.ID, Service: inst.Service,
		Namespace: mapped(m.namespaces, ns), Group: mapped(m.groups, group),
		Cluster: inst.Cluster, Zone: inst.Zone,
		Host: inst.Host, Port: inst.Port, SecurePort: inst.SecurePort, SecureEnabled: inst.SecureEnabled, Scheme: inst.Scheme,
		Status: mapStatus(m.status, inst.EffectiveStatus()), Health: inst.Health,
		Weight: inst.Weight, Disabled: inst.Disabled,
		Tags:   slices.Clone(inst.Tags),
		Labels: maps.Clone(inst.Labels),
	}
	if c.Zone != "" {
		c.Zone = mapped(m.zones, c.Zone)
	}
	for k, v := range inst.Metadata {
		to, renamed := m.metadata[k]
		switch {
		case k == MetaOrigin || k == MetaOwner || k == MetaDigest:
			continue
		case renamed && to == "":
			continue
		case renamed:
			k = to
		}
		if k == "zone" {
			v = mapped(m.zones, v)
		}
		if c.Metadata == nil {
			c.Metadata = map[string]string{}
		}
		c.Metadata[k] = v
	}
	return c
}

func mapStatus(m map[registry.Status]registry.Status, s registry.Status) registry.Status {
	if to, ok := m[s]; ok {
		return to
	}
	return s
}

// finish makes c a copy ready to write: labels the registry would not
// derive again from the metadata are carried as "label.<name>" metadata
// (every registry keeps metadata; only the mesh keeps labels), defaults
// are filled in, and the markers and the digest of the result are added.
func finish(c *registry.Instance, origin, owner string) *registry.Instance {
	foldLabels(c)
	c.Normalize()
	c.Labels = nil // derived from the metadata again wherever the copy lands
	c.ServiceKey = ""
	digest := digestOf(c)
	if c.Metadata == nil {
		c.Metadata = map[string]string{}
	}
	c.Metadata[MetaOrigin] = origin
	c.Metadata[MetaOwner] = owner
	c.Metadata[MetaDigest] = digest
	return c
}

// foldLabels moves c's labels into its metadata where the metadata does
// not yield them already.
func foldLabels(c *registry.Instance) {
	if len(c.Labels) == 0 {
		return
	}
	probe := &registry.Instance{Metadata: c.Metadata}
	probe.Normalize()
	for k, v := range c.Labels {
		if got, ok := probe.Labels[k]; ok && got == v {
			continue
		}
		if c.Metadata == nil {
			c.Metadata = map[string]string{}
		}
		c.Metadata[registry.LabelMetadataPrefix+k] = v
	}
	c.Labels = nil
}

// digestOf is the digest MetaDigest carries: of c's content, markers
// left out.
func digestOf(c *registry.Instance) string {
	d := c.Clone()
	for _, k := range []string{MetaOrigin, MetaOwner, MetaDigest} {
		delete(d.Metadata, k)
	}
	d.ServiceKey, d.Labels = "", nil
	b, err := json.Marshal(d)
	if err != nil {
		panic("registrysync: an instance that does not encode: " + err.Error()) // plain fields only: cannot happen
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
