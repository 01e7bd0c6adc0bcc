package consul

import (
	"net/http"
	"slices"
	"strings"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/registry"

	"github.com/hashicorp/go-bexpr"
)

// applyFilter evaluates ?filter= over the rows of an answer with go-bexpr,
// the evaluator Consul itself uses, over structs with Consul's field names,
// so selectors such as Service.Meta.version or "primary" in ServiceTags mean
// the same as on Consul. rows is a slice or map; the same type comes back.
func applyFilter[T any](r *http.Request, rows T) (T, error) {
	expr := query(r).Get("filter")
	if expr == "" {
		return rows, nil
	}
	f, err := bexpr.CreateFilter(expr)
	if err != nil {
		return rows, errorf(http.StatusBadRequest, "Failed to create boolean expression evaluator: %v", err)
	}
	out, err := f.Execute(rows)
	if err != nil {
		return rows, errorf(http.StatusBadRequest, "Failed to evaluate filter: %v", err)
	}
	return out.(T), nil
}

// nodeMetaMatches applies ?node-meta=key:value (repeatable; every pair
// must match) to a node, as Consul does: a node that does not match
// contributes no rows.
func nodeMetaMatches(r *http.Request, n *wire.Node) bool {
	for _, pair := range query(r)["node-meta"] {
		key, value, _ := strings.Cut(pair, ":")
		if v, ok := n.Meta[key]; !ok || v != value {
			return false
		}
	}
	return true
}

// onMatchingNodes keeps the instances whose node passes ?node-meta=.
func (s *Server) onMatchingNodes(r *http.Request, insts []*registry.Instance) []*registry.Instance {
	if _, ok := query(r)["node-meta"]; !ok {
		return insts
	}
	return slices.DeleteFunc(insts, func(i *registry.Instance) bool { return !nodeMetaMatches(r, s.nodeOf(i)) })
}
