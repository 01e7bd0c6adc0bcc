package consul

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"
)

// attrNode marks a service registered through /v1/catalog/register on
// another node than this agent's: the node it is on, as registered. Such
// services are in the catalog and the health views, not among the agent's
// own services, and no check of theirs is run here (a catalog check only
// holds the status its registrant writes), as on Consul.
const attrNode = "consul.node"

// nodeRecord is a node as a catalog registration describes it; each
// service on the node carries it.
type nodeRecord struct {
	Node            string
	ID              string            `json:",omitempty"`
	Address         string            `json:",omitempty"`
	TaggedAddresses map[string]string `json:",omitempty"`
	Meta            map[string]string `json:",omitempty"`
}

// externalNode is the node record of a service registered on another
// node, nil for this agent's own services and other protocols' instances.
func externalNode(inst *registry.Instance) *nodeRecord {
	if inst == nil {
		return nil
	}
	raw, ok := inst.Attributes[attrNode]
	if !ok {
		return nil
	}
	var n nodeRecord
	if json.Unmarshal([]byte(raw), &n) != nil || n.Node == "" {
		return nil
	}
	return &n
}

// local reports whether an instance is one of this agent's own services.
func local(inst *registry.Instance) bool {
	return inst.Origin == registry.OriginConsul && externalNode(inst) == nil
}

// nodeOf is the node an instance is shown on: its registered node, else
// this agent's.
func (s *Server) nodeOf(inst *registry.Instance) *wire.Node {
	n := externalNode(inst)
	if n == nil {
		return s.node.node
	}
	return &wire.Node{
		ID: n.ID, Node: n.Node, Address: n.Address, Datacenter: s.opts.Datacenter,
		TaggedAddresses: nonNilMap(n.TaggedAddresses), Meta: nonNilMap(n.Meta),
		CreateIndex: uint64(inst.Revision), ModifyIndex: uint64(inst.Revision),
	}
}

// onNode reports whether an instance is shown on the named node.
func (s *Server) onNode(inst *registry.Instance, node string) bool {
	if n := externalNode(inst); n != nil {
		return n.Node == node
	}
	return node == s.opts.NodeName
}

// allNodes is this agent's node and every node services were registered
// on through the catalog, by name.
func (s *Server) allNodes(insts []*registry.Instance) []*wire.Node {
	byName := map[string]*wire.Node{s.opts.NodeName: s.node.node}
	for _, i := range insts {
		if n := externalNode(i); n != nil {
			if prev := byName[n.Node]; prev == nil || prev.ModifyIndex < uint64(i.Revision) {
				byName[n.Node] = s.nodeOf(i)
			}
		}
	}
	out := slices.Collect(maps.Values(byName))
	slices.SortFunc(out, func(a, b *wire.Node) int { return strings.Compare(a.Node, b.Node) })
	return out
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
