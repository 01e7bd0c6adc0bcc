package consul

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// catalogRegister serves PUT /v1/catalog/register: a service and its
// checks on a node no agent here runs (external services, catalog
// syncers), as Consul's catalog takes them. What is kept: the node's
// address, tagged addresses and meta (unless SkipNodeUpdate finds the node
// already there), the service as an agent registration keeps it, and
// checks with the status written (critical when none). What is refused
// with 400 rather than dropped: nodes without services and node-level
// checks (a node lives here only through its services), this agent's own
// node (register there through /v1/agent/service/register), and the
// registration fields the agent refuses too.
func (s *Server) catalogRegister(w http.ResponseWriter, r *http.Request) error {
	reg, err := wire.DecodeCatalogRegistration(r.Body)
	if err != nil {
		return decodeError(err)
	}
	if err := s.validateCatalogRegistration(reg); err != nil {
		return err
	}
	insts, err := s.servedInstances(r)
	if err != nil {
		return err
	}
	onNode := slices.DeleteFunc(insts, func(i *registry.Instance) bool { return !s.onNode(i, reg.Node) })
	node := nodeRecord{Node: reg.Node, ID: reg.ID, Address: reg.Address, TaggedAddresses: reg.TaggedAddresses, Meta: reg.NodeMeta}
	if reg.SkipNodeUpdate && len(onNode) > 0 {
		node = *externalNode(onNode[0])
	}
	checks := reg.Checks
	if reg.Check != nil {
		checks = append([]*wire.RegisteredCheck{reg.Check}, checks...)
	}

	// The services the registration changes, by ID: its service, and
	// those its checks are on.
	changed := map[string]*registry.Instance{}
	var order []string
	if reg.Service != nil {
		inst, err := s.buildCatalogService(r.Context(), reg, onNode)
		if err != nil {
			return err
		}
		changed[inst.ID], order = inst, append(order, inst.ID)
	} else if len(onNode) == 0 {
		return errorf(http.StatusBadRequest, "meshbridge: node %q has no services here, and a node without services is not kept; register it with a Service", reg.Node)
	}
	for _, c := range checks {
		target := changed[c.ServiceID]
		if target == nil {
			if target = findService(onNode, c.ServiceID); target == nil {
				return errorf(http.StatusBadRequest, "Unknown service ID %q for check %q on node %q", c.ServiceID, c.CheckID, reg.Node)
			}
			target = target.Clone()
			changed[target.ID], order = target, append(order, target.ID)
		}
		if err := addCatalogCheck(target, c); err != nil {
			return err
		}
	}
	// Unless SkipNodeUpdate, every service on the node carries the node
	// as registered now.
	if !reg.SkipNodeUpdate {
		for _, i := range onNode {
			if changed[i.ID] == nil && !sameNode(externalNode(i), &node) {
				changed[i.ID], order = i.Clone(), append(order, i.ID)
			}
		}
	}
	var last int64
	for _, id := range order {
		rev, err := s.storeCatalogService(r.Context(), changed[id], node)
		if err != nil {
			return err
		}
		last = max(last, rev)
	}
	if last > 0 {
		s.settle(r.Context(), last)
	}
	writeJSON(w, http.StatusOK, true)
	return nil
}

func (s *Server) validateCatalogRegistration(reg *wire.CatalogRegistration) error {
	switch {
	case reg.Node == "":
		return errorf(http.StatusBadRequest, "Must provide node")
	case reg.Address == "" && !reg.SkipNodeUpdate:
		return errorf(http.StatusBadRequest, "Must provide address if SkipNodeUpdate is not set")
	case reg.Node == s.opts.NodeName:
		return errorf(http.StatusBadRequest, "meshbridge: node %q is this agent's; register its services through /v1/agent/service/register", reg.Node)
	case !registry.ValidName(reg.Node):
		return errorf(http.StatusBadRequest, "Invalid node name %q: %s", reg.Node, registry.NameRule)
	case reg.Address != "" && !registry.ValidHost(reg.Address):
		return errorf(http.StatusBadRequest, "Invalid node address %q: %s", reg.Address, registry.HostRule)
	case string(reg.Locality) != "" && string(reg.Locality) != "null":
		return errorf(http.StatusBadRequest, "Invalid registration: Locality of a node is not supported by meshbridge (it would not be kept)")
	case reg.Partition != "" && reg.Partition != "default":
		return errorf(http.StatusBadRequest, "Invalid registration: Partition is not supported by meshbridge (it would not be kept)")
	case reg.Namespace != "" && reg.Namespace != "default":
		return errorf(http.StatusBadRequest, "Invalid registration: Namespace is not supported by meshbridge (it would not be kept)")
	}
	if err := wire.ValidateMeta(reg.NodeMeta); err != nil {
		return errorf(http.StatusBadRequest, "Invalid NodeMeta: %v", err)
	}
	if reg.Service != nil && reg.Service.PeerName != "" {
		return errorf(http.StatusBadRequest, "Invalid service: PeerName is not supported by meshbridge (it would not be kept)")
	}
	checks := append([]*wire.RegisteredCheck{reg.Check}, reg.Checks...)
	for _, c := range checks {
		if c == nil {
			continue
		}
		if field := c.Unsupported(); field != "" {
			return errorf(http.StatusBadRequest, "Invalid check %q: %s is not supported by meshbridge (it would not be kept)", c.CheckID, field)
		}
		if c.Status != "" && !validStatus(c.Status) {
			return errorf(http.StatusBadRequest, "Invalid check %q: status must be passing, warning or critical", c.CheckID)
		}
		if c.CheckID == "" {
			return errorf(http.StatusBadRequest, "Invalid check: missing CheckID")
		}
		if len(c.CheckID) > maxCheckIDLength {
			return errorf(http.StatusBadRequest, "Invalid check: CheckID longer than %d characters", maxCheckIDLength)
		}
		if c.ServiceID == "" {
			return errorf(http.StatusBadRequest, "meshbridge: node-level check %q is not kept; give the ServiceID of a service on node %q", c.CheckID, reg.Node)
		}
	}
	return nil
}

// buildCatalogService builds the registration's service on the node,
// keeping the checks it already has there.
func (s *Server) buildCatalogService(ctx context.Context, reg *wire.CatalogRegistration, onNode []*registry.Instance) (*registry.Instance, error) {
	def := reg.Service.Definition()
	if _, err := s.validateDefinition(def); err != nil {
		return nil, err
	}
	id := def.ID
	if id == "" {
		id = def.Name
	}
	key := registry.NewInstanceKey(s.opts.Namespace, registry.DefaultGroup, def.Name, id)
	prev, err := s.store.Get(ctx, key)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		prev = nil
	case err != nil:
		return nil, fmt.Errorf("consul: catalog register %q: %w", id, err)
	case !s.onNode(prev, reg.Node):
		return nil, errorf(http.StatusBadRequest, "meshbridge: service ID %q of %q is registered on node %q; IDs are unique per service here", id, def.Name, s.nodeOf(prev).Node)
	}
	// The same ID on this node under another name is replaced, as Consul
	// keeps service IDs unique per node.
	if old := findService(onNode, id); old != nil && old.Key() != key {
		if _, err := s.store.Deregister(ctx, old.Key()); err != nil && !errors.Is(err, registry.ErrNotFound) {
			return nil, fmt.Errorf("consul: catalog replace %q: %w", id, err)
		}
	}
	return s.buildInstance(def, id, nil, prev, false)
}

// addCatalogCheck sets one check on a catalog service: the status given
// (critical when none), replacing a check with the same ID.
func addCatalogCheck(inst *registry.Instance, c *wire.RegisteredCheck) error {
	_, recs := readRecords(inst)
	recs = slices.DeleteFunc(recs, func(r *checkRecord) bool { return r.ID == c.CheckID })
	status := c.Status
	if status == "" {
		status = statusCritical
	}
	d := c.Definition
	recs = append(recs, &checkRecord{
		ID: c.CheckID, Name: c.Name, Type: c.Type, Notes: c.Notes, Status: status, Output: c.Output,
		HTTP: d.HTTP, Header: d.Header, Method: d.Method, Body: d.Body,
		TLSServerName: d.TLSServerName, TLSSkipVerify: d.TLSSkipVerify, TCP: d.TCP, TCPUseTLS: d.TCPUseTLS,
		Interval: d.Interval.Std(), Timeout: d.Timeout.Std(), DeregisterAfter: d.DeregisterCriticalServiceAfter.Std(),
	})
	if err := writeChecks(inst, recs); err != nil {
		return errorf(http.StatusBadRequest, "Invalid check: %v", err)
	}
	return nil
}

// storeCatalogService writes a catalog service with its node record.
func (s *Server) storeCatalogService(ctx context.Context, inst *registry.Instance, node nodeRecord) (int64, error) {
	raw, err := json.Marshal(node)
	if err != nil {
		return 0, err
	}
	inst.Attributes[attrNode] = string(raw)
	if node.Address != "" && serviceAddressOf(inst) == "" {
		inst.Host = node.Address // Consul's rule: no service address means the node's
	}
	stored, err := s.store.Register(ctx, inst)
	if errors.Is(err, registry.ErrInvalid) {
		return 0, errorf(http.StatusBadRequest, "Validation failed: %v", err)
	}
	if err != nil {
		return 0, fmt.Errorf("consul: catalog register %q: %w", inst.ID, err)
	}
	return stored.Revision, nil
}

// serviceAddressOf is the address a service was registered with, "" when
// it takes its node's.
func serviceAddressOf(inst *registry.Instance) string {
	if rec, _ := readRecords(inst); rec != nil {
		return rec.Address
	}
	return ""
}

func findService(insts []*registry.Instance, id string) *registry.Instance {
	for _, i := range insts {
		if i.ID == id {
			return i
		}
	}
	return nil
}

func sameNode(a, b *nodeRecord) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// catalogDeregister serves PUT /v1/catalog/deregister: a check, a service
// (with its checks) or, with neither named, the node with all its
// services. Naming something that is not there is not an error, as on
// Consul.
func (s *Server) catalogDeregister(w http.ResponseWriter, r *http.Request) error {
	d, err := wire.DecodeCatalogDeregistration(r.Body)
	if err != nil {
		return decodeError(err)
	}
	switch {
	case d.Node == "":
		return errorf(http.StatusBadRequest, "Must provide node")
	case d.Node == s.opts.NodeName:
		return errorf(http.StatusBadRequest, "meshbridge: node %q is this agent's; deregister its services through /v1/agent/service/deregister", d.Node)
	}
	insts, err := s.servedInstances(r)
	if err != nil {
		return err
	}
	onNode := slices.DeleteFunc(insts, func(i *registry.Instance) bool { return !s.onNode(i, d.Node) })
	var last int64
	switch {
	case d.CheckID != "":
		for _, i := range onNode {
			if d.ServiceID != "" && i.ID != d.ServiceID {
				continue
			}
			_, recs := readRecords(i)
			if !slices.ContainsFunc(recs, func(c *checkRecord) bool { return c.ID == d.CheckID }) {
				continue
			}
			stored, err := s.store.Update(r.Context(), i.Key(), func(u *registry.Instance) error {
				_, recs := readRecords(u)
				return writeChecks(u, slices.DeleteFunc(recs, func(c *checkRecord) bool { return c.ID == d.CheckID }))
			})
			if err != nil && !errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("consul: catalog deregister check %q: %w", d.CheckID, err)
			}
			if stored != nil {
				last = stored.Revision
			}
		}
	default:
		for _, i := range onNode {
			if d.ServiceID != "" && i.ID != d.ServiceID {
				continue
			}
			if _, err := s.store.Deregister(r.Context(), i.Key()); err != nil && !errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("consul: catalog deregister %q: %w", i.ID, err)
			}
			last = max(last, s.store.Revision())
		}
	}
	if last > 0 {
		s.settle(r.Context(), last)
	}
	writeJSON(w, http.StatusOK, true)
	return nil
}
