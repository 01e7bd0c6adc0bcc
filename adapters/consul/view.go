package consul

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// Node-level check every Consul node carries.
const (
	serfCheckID   = "serfHealth"
	serfCheckName = "Serf Health Status"
	serfOutput    = "Agent alive and reachable"
)

// Maintenance check naming, Consul's.
const (
	maintCheckPrefix = "_service_maintenance:"
	maintCheckName   = "Service Maintenance Mode"
	maintDefaultNote = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message."
)

// nodeView is the one node this agent presents.
type nodeView struct {
	node *wire.Node
}

func newNodeView(o Options) *nodeView {
	sum := sha256.Sum256([]byte("meshbridge-consul-node:" + o.Datacenter + "/" + o.NodeName))
	id := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	if o.NodeID != "" {
		id = strings.ToLower(o.NodeID)
	}
	return &nodeView{node: &wire.Node{
		ID:         id,
		Node:       o.NodeName,
		Address:    o.NodeAddress,
		Datacenter: o.Datacenter,
		TaggedAddresses: map[string]string{
			"lan": o.NodeAddress, "lan_ipv4": o.NodeAddress,
			"wan": o.NodeAddress, "wan_ipv4": o.NodeAddress,
		},
		Meta:        nodeMeta(o.NodeMeta),
		CreateIndex: 1,
		ModifyIndex: 1,
	}}
}

// nodeMeta is the node's metadata: the configured keys and the ones
// Consul's agent adds to its own node.
func nodeMeta(configured map[string]string) map[string]string {
	meta := maps.Clone(configured)
	if meta == nil {
		meta = map[string]string{}
	}
	meta["consul-network-segment"] = ""
	meta["consul-version"] = consulVersion
	return meta
}

// displayName is the name a service is shown under: the spelling of a
// service registered through Consul when there is one, else the canonical
// (lower-case) key, because Eureka upper-cases names and Consul names are
// conventionally lower-case DNS labels.
func displayName(insts []*registry.Instance) string {
	for _, i := range insts {
		if i.Origin == registry.OriginConsul {
			return i.Service
		}
	}
	if len(insts) > 0 {
		return insts[0].ServiceKey
	}
	return ""
}

// serviceView is an instance as Consul describes a service instance.
func (s *Server) serviceView(inst *registry.Instance, name string) *wire.AgentService {
	rec, _ := readRecords(inst)
	svc := &wire.AgentService{
		ID:          inst.ID,
		Service:     name,
		Tags:        nonNilTags(inst.Tags),
		Meta:        s.metaView(inst),
		Address:     inst.Host,
		Weights:     wire.Weights{Passing: weightView(inst.Weight), Warning: 1},
		CreateIndex: uint64(inst.Revision),
		ModifyIndex: uint64(inst.Revision),
		Datacenter:  s.opts.Datacenter,
	}
	svc.Port, _ = inst.CallPort()
	if rec != nil {
		svc.Kind = rec.Kind
		svc.EnableTagOverride = rec.EnableTagOverride
		svc.SocketPath = rec.SocketPath
		if rec.Locality != nil {
			svc.Locality = &wire.Locality{Region: rec.Locality.Region, Zone: rec.Locality.Zone}
		}
		svc.Address = rec.Address
		if rec.WeightPassing > 0 {
			svc.Weights = wire.Weights{Passing: rec.WeightPassing, Warning: rec.WeightWarning}
		}
		if len(rec.TaggedAddresses) > 0 {
			svc.TaggedAddresses = make(map[string]wire.ServiceAddress, len(rec.TaggedAddresses))
			for k, v := range rec.TaggedAddresses {
				svc.TaggedAddresses[k] = wire.ServiceAddress(v)
			}
		}
	}
	return svc
}

// metaView is the instance metadata, plus for instances registered through
// other protocols the keys Spring Cloud Consul reads: "secure" (scheme)
// and "zone", unless the metadata already has them.
func (s *Server) metaView(inst *registry.Instance) map[string]string {
	meta := maps.Clone(inst.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	if inst.Origin == registry.OriginConsul {
		return meta
	}
	if _, ok := meta["secure"]; !ok {
		_, secure := inst.CallPort()
		meta["secure"] = strconv.FormatBool(secure)
	}
	if _, ok := meta["zone"]; !ok && inst.Zone != "" {
		meta["zone"] = inst.Zone
	}
	return meta
}

// weightView maps the registry weight (Nacos floats) onto Consul's
// integer weights, at least 1.
func weightView(w float64) int {
	if w <= 0 {
		return 1
	}
	return int(max(1, min(65535, math.Round(w))))
}

func nonNilTags(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return slices.Clone(tags)
}

// serfCheck is the node's health check, always passing: the node is this
// process, which is answering.
func (s *Server) serfCheck() *wire.HealthCheck {
	return &wire.HealthCheck{
		Node:        s.opts.NodeName,
		CheckID:     serfCheckID,
		Name:        serfCheckName,
		Status:      statusPassing,
		Output:      serfOutput,
		ServiceTags: []string{},
		CreateIndex: 1,
		ModifyIndex: 1,
	}
}

// serviceChecks are an instance's service-level checks: the checks it was
// registered with through Consul, or, for other instances, one check
// synthesised from their status and health. A status set through another
// protocol (an Eureka override, a disabled Nacos instance) shows as
// Consul's maintenance check.
func (s *Server) serviceChecks(inst *registry.Instance, name string) []*wire.HealthCheck {
	_, recs := readRecords(inst)
	tags := nonNilTags(inst.Tags)
	idx := uint64(inst.Revision)
	node := s.nodeOf(inst).Node
	var out []*wire.HealthCheck
	hasMaint := false
	for _, c := range recs {
		hasMaint = hasMaint || c.Type == typeMaintenance
		hc := &wire.HealthCheck{
			Node:        node,
			CheckID:     c.ID,
			Name:        c.Name,
			Status:      c.Status,
			Notes:       c.Notes,
			Output:      c.Output,
			ServiceID:   inst.ID,
			ServiceName: name,
			ServiceTags: tags,
			Type:        c.Type,
			Interval:    wire.FormatDuration(c.Interval),
			Timeout:     wire.FormatDuration(c.Timeout),
			Definition: wire.HealthCheckDefinition{
				HTTP: c.HTTP, Header: c.Header, Method: c.Method, Body: c.Body,
				TLSServerName: c.TLSServerName, TLSSkipVerify: c.TLSSkipVerify,
				DisableRedirects: c.DisableRedirects, TCP: c.TCP, TCPUseTLS: c.TCPUseTLS,
				Interval:                       wire.FormatDuration(c.Interval),
				Timeout:                        wire.FormatDuration(c.Timeout),
				DeregisterCriticalServiceAfter: wire.FormatDuration(c.DeregisterAfter),
				TTL:                            c.TTL,
			},
			CreateIndex: idx,
			ModifyIndex: idx,
		}
		if c.Type == typeMaintenance {
			hc.Type = ""
		}
		out = append(out, hc)
	}
	if inst.Origin != registry.OriginConsul {
		out = append(out, s.synthesizedCheck(inst, name, tags))
	}
	if st := inst.EffectiveStatus(); !hasMaint && (inst.Disabled || inst.Origin == registry.OriginConsul && st != registry.StatusUp) {
		reason := fmt.Sprintf("status %s set through the %s registration", st, originName(inst))
		if inst.Disabled {
			reason = "instance disabled through the " + originName(inst) + " registration"
		}
		out = append(out, &wire.HealthCheck{
			Node: s.opts.NodeName, CheckID: maintCheckPrefix + inst.ID, Name: maintCheckName,
			Status: statusCritical, Notes: reason, ServiceID: inst.ID, ServiceName: name,
			ServiceTags: tags, CreateIndex: idx, ModifyIndex: idx,
		})
	}
	return out
}

func originName(inst *registry.Instance) string {
	if inst.Origin == "" {
		return "registry"
	}
	return inst.Origin
}

// synthesizedCheck reflects a non-Consul instance's status and health:
// critical unless UP (status override included), warning when its health
// is warning. Instances held by a lease look like a TTL check.
func (s *Server) synthesizedCheck(inst *registry.Instance, name string, tags []string) *wire.HealthCheck {
	st := inst.EffectiveStatus()
	status := statusPassing
	switch {
	case st != registry.StatusUp || inst.Health == registry.HealthCritical:
		status = statusCritical
	case inst.Health == registry.HealthWarning:
		status = statusWarning
	}
	typ := ""
	def := wire.HealthCheckDefinition{}
	if inst.Ephemeral && inst.Lease.Duration > 0 {
		typ = typeTTL
		def.TTL = inst.Lease.Duration
	}
	origin := originName(inst)
	return &wire.HealthCheck{
		Node:        s.opts.NodeName,
		CheckID:     "service:" + inst.ID,
		Name:        fmt.Sprintf("Service '%s' check", name),
		Status:      status,
		Notes:       "Synthesised by meshbridge from the " + origin + " registration.",
		Output:      fmt.Sprintf("%s status %s, health %s", origin, st, inst.Health),
		ServiceID:   inst.ID,
		ServiceName: name,
		ServiceTags: tags,
		Type:        typ,
		Definition:  def,
		CreateIndex: uint64(inst.Revision),
		ModifyIndex: uint64(inst.Revision),
	}
}

// entryView is one row of /v1/health/service.
func (s *Server) entryView(inst *registry.Instance, name string) *wire.ServiceEntry {
	var checks []*wire.HealthCheck
	if externalNode(inst) == nil {
		// Only this agent's node has a Serf check; a node registered
		// through the catalog has the checks registered with it.
		checks = append(checks, s.serfCheck())
	}
	checks = append(checks, s.serviceChecks(inst, name)...)
	return &wire.ServiceEntry{Node: s.nodeOf(inst), Service: s.serviceView(inst, name), Checks: checks}
}

// catalogView is one row of /v1/catalog/service.
func (s *Server) catalogView(inst *registry.Instance, name string) *wire.CatalogService {
	svc := s.serviceView(inst, name)
	n := s.nodeOf(inst)
	return &wire.CatalogService{
		ID: n.ID, Node: n.Node, Address: n.Address, Datacenter: n.Datacenter,
		TaggedAddresses: n.TaggedAddresses, NodeMeta: n.Meta,
		ServiceKind: svc.Kind, ServiceID: svc.ID, ServiceName: svc.Service,
		ServiceTags: svc.Tags, ServiceAddress: svc.Address,
		ServiceTaggedAddresses: svc.TaggedAddresses, ServiceWeights: svc.Weights,
		ServiceMeta: svc.Meta, ServicePort: svc.Port,
		ServiceEnableTagOverride: svc.EnableTagOverride,
		ServiceSocketPath:        svc.SocketPath, ServiceLocality: svc.Locality,
		CreateIndex: svc.CreateIndex, ModifyIndex: svc.ModifyIndex,
	}
}

// passing reports whether every check of an entry passes, as
// ?passing filters (node checks included).
func passing(e *wire.ServiceEntry) bool {
	for _, c := range e.Checks {
		if c.Status != statusPassing {
			return false
		}
	}
	return true
}

// hasTags reports whether the instance carries every tag, compared without
// case as Consul's tag filter does.
func hasTags(inst *registry.Instance, want []string) bool {
	for _, w := range want {
		found := false
		for _, t := range inst.Tags {
			if strings.EqualFold(t, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
