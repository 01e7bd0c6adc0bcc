package consul

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/registry"
)

// Keys of Consul service meta the mapping reads and writes: the ones
// Spring Cloud Consul reads.
const (
	// metaSecure is "true" when the service's port speaks https.
	metaSecure = "secure"
	// metaZone is the zone.
	metaZone = "zone"
)

// attrDatacenter is the attribute the source keeps an instance's
// datacenter under (the model has no field for it).
const attrDatacenter = "consul.datacenter"

// Consul's limits on service meta (agent/structs.ValidateServiceMetadata).
const (
	maxMetaPairs     = 64
	maxMetaKeyLength = 128
	maxMetaValue     = 512
	reservedPrefix   = "consul-"
)

// fromConsul maps a health entry to the registry model: one instance of
// its service, with the worst of its checks (node checks included, as
// Consul's ?passing does) as health, and OUT_OF_SERVICE while the service
// or its node is in maintenance.
func fromConsul(e *api.ServiceEntry, datacenter string) *registry.Instance {
	s := e.Service
	inst := &registry.Instance{
		ID:       s.ID,
		Service:  s.Service,
		Host:     s.Address,
		Port:     s.Port,
		Status:   registry.StatusUp,
		Health:   worst(e.Checks),
		Metadata: maps.Clone(s.Meta),
		Tags:     slices.Clone(s.Tags),
		Zone:     s.Meta[metaZone],
		Origin:   registry.OriginConsul,
	}
	if inst.Host == "" && e.Node != nil {
		inst.Host = e.Node.Address
	}
	if s.Weights.Passing > 0 {
		inst.Weight = float64(s.Weights.Passing)
	}
	if s.Meta[metaSecure] == "true" {
		inst.SecurePort, inst.SecureEnabled, inst.Scheme, inst.Port = s.Port, true, "https", 0
	}
	for _, c := range e.Checks {
		if maintenance(c.CheckID) && c.Status == api.HealthCritical {
			inst.Status = registry.StatusOutOfService
		}
	}
	if e.Node != nil && e.Node.Datacenter != "" {
		datacenter = e.Node.Datacenter
	}
	if datacenter != "" {
		inst.Attributes = map[string]string{attrDatacenter: datacenter}
	}
	return inst
}

// instanceIDs gives each of a service's health entries the id its
// instance has in the registry model. Consul keeps a service ID unique
// per agent only (its docs: "must be unique per agent"; an ID left out is
// the service name), so two nodes may each hold an "orders" of service
// orders, while the model, and every target, holds one instance per
// service and id. An ID held on more than one node is therefore
// qualified with the node, "<id>@<node>", on every node that holds it;
// an ID on one node stays as registered. The rule depends only on what
// the service's listing holds, never on which instance came first, so
// every listing, watch and replica gives the same ids. Qualifying every
// ID was the other choice: it would rename every Consul copy (a syncer
// upgrade deleting them all at once, which the breaker stops) to show
// node names nobody asked for; the price of this one is that a copy is
// renamed once (removed and written again) when another node starts or
// stops holding its ID. '@' is one every target takes in an id: Eureka
// and Consul carry ids in URL paths, ZooKeeper as a node name, Nacos in
// metadata, and the registry refuses only '/' and control characters.
func instanceIDs(entries []*api.ServiceEntry) []string {
	nodes := map[string]map[string]bool{}
	for _, e := range entries {
		if nodes[e.Service.ID] == nil {
			nodes[e.Service.ID] = map[string]bool{}
		}
		nodes[e.Service.ID][nodeName(e)] = true
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.Service.ID
		if len(nodes[e.Service.ID]) > 1 {
			ids[i] += "@" + nodeName(e)
		}
	}
	return ids
}

func nodeName(e *api.ServiceEntry) string {
	if e.Node == nil {
		return ""
	}
	return e.Node.Node
}

// maintenance reports whether a check is Consul's maintenance mode, of
// the service or of its node.
func maintenance(checkID string) bool {
	return checkID == api.NodeMaint || strings.HasPrefix(checkID, api.ServiceMaintPrefix)
}

// worst is the worst status of checks other than maintenance (which
// makes the status OUT_OF_SERVICE instead); no checks is passing.
func worst(checks api.HealthChecks) registry.Health {
	h := registry.HealthPassing
	for _, c := range checks {
		if maintenance(c.CheckID) {
			continue
		}
		switch c.Status {
		case api.HealthCritical, api.HealthMaint:
			return registry.HealthCritical
		case api.HealthWarning:
			h = registry.HealthWarning
		}
	}
	return h
}

// registration is a copy as the sink registers it.
type registration struct {
	service *api.AgentServiceRegistration
	// selectable is false for a copy whose instance must not be chosen:
	// it is then withheld or in maintenance (Config.DownAs).
	selectable bool
	// status is the TTL check's status while the copy is registered:
	// passing, or warning for an instance whose health is warning.
	status string
	// reason says why a copy is not selectable (the maintenance reason).
	reason string
}

// checkID is the ID of a copy's TTL check: the ID Consul gives the one
// check of a service, so the copy is renewed by its own id.
func checkID(serviceID string) string { return "service:" + serviceID }

// toConsul maps a copy to its registration with a check of ttl, reaped
// after deregisterAfter. It refuses what Consul cannot hold, naming the
// field.
func toConsul(in *registry.Instance, ttl, deregisterAfter time.Duration) (registration, error) {
	inst := in.Clone()
	inst.Normalize()
	if err := inst.Validate(); err != nil {
		return registration{}, err
	}
	meta, err := consulMeta(inst.Metadata)
	if err != nil {
		return registration{}, err
	}
	if inst.Zone != "" && meta[metaZone] == "" {
		meta[metaZone] = inst.Zone
	}
	port := inst.Port
	if inst.SecureEnabled && inst.SecurePort > 0 && (port == 0 || inst.Scheme == "https") {
		port = inst.SecurePort
		meta[metaSecure] = "true"
	}
	if len(meta) > maxMetaPairs {
		return registration{}, fmt.Errorf("metadata: Consul holds at most %d meta pairs, the copy has %d", maxMetaPairs, len(meta))
	}
	r := registration{
		service: &api.AgentServiceRegistration{
			ID:      inst.ID,
			Name:    inst.Service,
			Tags:    slices.Clone(inst.Tags),
			Port:    port,
			Address: inst.Host,
			Meta:    meta,
			Weights: &api.AgentWeights{Passing: max(1, int(math.Round(inst.Weight))), Warning: 1},
			Check: &api.AgentServiceCheck{
				CheckID:                        checkID(inst.ID),
				Name:                           "registrysync copy",
				Notes:                          "A copy written by registrysync, which passes this check; it lapses when the syncer is gone.",
				TTL:                            ttl.String(),
				Status:                         api.HealthPassing,
				DeregisterCriticalServiceAfter: deregisterAfter.String(),
			},
		},
		selectable: inst.Healthy(),
		status:     api.HealthPassing,
	}
	if inst.Health == registry.HealthWarning {
		r.status = api.HealthWarning
		r.service.Check.Status = api.HealthWarning
	}
	if !r.selectable {
		r.reason = "registrysync: " + notSelectable(inst)
	}
	return r, nil
}

// notSelectable says why an instance must not be selected.
func notSelectable(inst *registry.Instance) string {
	switch s := inst.EffectiveStatus(); {
	case s != registry.StatusUp:
		return string(s) + " at its source"
	case inst.Disabled:
		return "disabled at its source"
	}
	return "health critical at its source"
}

// consulMeta is metadata as Consul service meta can hold it: keys of
// letters, digits, '-' and '_' only, so every other character of a key
// becomes '_' ("management.port" is "management_port", the key Spring
// Cloud Consul users write). Two keys that become one, a key Consul
// reserves or one or a value too long are refused.
func consulMeta(m map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(m)+2)
	from := make(map[string]string, len(m))
	keys := slices.Sorted(maps.Keys(m))
	for _, k := range keys {
		v := m[k]
		ck := metaKey(k)
		switch {
		case len(ck) > maxMetaKeyLength:
			return nil, fmt.Errorf("metadata.%q: Consul meta keys are at most %d characters", k, maxMetaKeyLength)
		case strings.HasPrefix(ck, reservedPrefix):
			return nil, fmt.Errorf("metadata.%q: Consul reserves meta keys starting with %q", k, reservedPrefix)
		case len(v) > maxMetaValue:
			return nil, fmt.Errorf("metadata.%q: Consul meta values are at most %d characters", k, maxMetaValue)
		case from[ck] != "":
			return nil, fmt.Errorf("metadata.%q and metadata.%q: both become Consul meta key %q", from[ck], k, ck)
		}
		from[ck] = k
		out[ck] = v
	}
	return out, nil
}

// metaKey replaces each character Consul refuses in a meta key by '_'.
func metaKey(k string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, k)
}

// fromAgent maps a copy as the agent holds it (its service and its
// checks) back to the model, for Owned.
func fromAgent(s *api.AgentService, checks []*api.AgentCheck) *registry.Instance {
	e := &api.ServiceEntry{Service: s}
	for _, c := range checks {
		e.Checks = append(e.Checks, &api.HealthCheck{CheckID: c.CheckID, Status: c.Status})
	}
	return fromConsul(e, s.Datacenter)
}

// sameRegistration reports whether the agent holds the copy as want would
// write it: same service fields, the TTL check in want's status, and in
// maintenance exactly when want is not selectable.
func sameRegistration(want registration, s *api.AgentService, checks []*api.AgentCheck) bool {
	w := want.service
	if s.Service != w.Name || s.Address != w.Address || s.Port != w.Port ||
		!slices.Equal(orEmpty(s.Tags), orEmpty(w.Tags)) || !maps.Equal(s.Meta, w.Meta) ||
		s.Weights.Passing != w.Weights.Passing || s.Weights.Warning != w.Weights.Warning {
		return false
	}
	var ttlStatus string
	inMaintenance := false
	for _, c := range checks {
		switch c.CheckID {
		case checkID(w.ID):
			ttlStatus = c.Status
		case api.ServiceMaintPrefix + w.ID:
			inMaintenance = true
		}
	}
	return ttlStatus == want.status && inMaintenance == !want.selectable
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nextIndex is the index of a watch's next blocking query after one
// asked with prev was answered with got, by Consul's rules for clients:
// an index that went backwards (a restored snapshot, a rebuilt cluster)
// starts over with a query that does not block, and an index below 1
// (a server bug that makes blocking queries return at once) is taken as 1.
func nextIndex(prev, got uint64) uint64 {
	switch {
	case got < prev:
		return 0
	case got < 1:
		return 1
	}
	return got
}

// sortInstances orders a group's instances by id, so that two listings of
// the same instances compare equal.
func sortInstances(insts []*registry.Instance) {
	sort.Slice(insts, func(i, j int) bool { return insts[i].ID < insts[j].ID })
}
