package consul

import (
	"reflect"

	"github.com/meshbridge/meshbridge/registry"
)

// selfServiceName is the service every Consul server registers for itself
// (structs.ConsulServiceName); clients look for it in the catalog.
const selfServiceName = "consul"

// selfInstance is the adapter as the "consul" service: this node's address
// and the port the API is served on, always passing (only the node check
// applies, as on Consul). It is shown, never stored, and not among the
// agent's own services (/v1/agent/services), as on Consul.
func (s *Server) selfInstance() *registry.Instance {
	return &registry.Instance{
		ID: selfServiceName, Service: selfServiceName, ServiceKey: selfServiceName,
		Namespace: s.opts.Namespace, Group: registry.DefaultGroup,
		Host: s.opts.NodeAddress, Port: int(s.port.Load()),
		Status: registry.StatusUp, Health: registry.HealthPassing, Origin: registry.OriginConsul,
		Metadata: map[string]string{"version": consulVersion, "raft_version": "3", "serf_protocol_current": "2", "non_voter": "false", "read_replica": "false"},
		Revision: 1,
	}
}

// withSelf adds the "consul" service to the rows of a read, when the node
// is shown at all.
func (s *Server) withSelf(insts []*registry.Instance) []*registry.Instance {
	return append(insts, s.selfInstance())
}

// sameInCatalog reports whether an instance reads the same in the catalog
// before and after a change (name, tags, address, port, meta, weights):
// a change of its checks or status alone does not move the catalog's
// service index, as on Consul.
func (s *Server) sameInCatalog(prev, cur *registry.Instance) bool {
	if prev == nil || prev.ServiceKey != cur.ServiceKey || prev.Group != cur.Group {
		return false
	}
	a, b := s.serviceView(prev, prev.Service), s.serviceView(cur, cur.Service)
	a.CreateIndex, a.ModifyIndex, b.CreateIndex, b.ModifyIndex = 0, 0, 0, 0
	return reflect.DeepEqual(a, b)
}
