package consul

import (
	"net/http"
	"strings"

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
// must match) to this agent's one node, as Consul applies it to each node:
// a node that does not match contributes no rows.
func (s *Server) nodeMetaMatches(r *http.Request) bool {
	for _, pair := range query(r)["node-meta"] {
		key, value, _ := strings.Cut(pair, ":")
		if v, ok := s.node.node.Meta[key]; !ok || v != value {
			return false
		}
	}
	return true
}
