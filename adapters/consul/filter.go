package consul

import (
	"net/http"

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
