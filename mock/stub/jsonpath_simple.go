package stub

import (
	"strings"

	"github.com/ohler55/ojg/jp"
)

// simplePath evaluates the JSONPath shapes stubs mostly use — members
// ($.a.b, $['a']), indexes ([0], [-1]), wildcards ([*]) and filters that
// test members of @ for equality with a literal or for presence
// ([?(@.sku == 'sku-7')], [?(@.n == 5 && @.ok == true)], [?(@.id)]) —
// over a document decoded by decodeJSON, selecting what ojg selects (in
// the same order, but for a wildcard over an object, whose order is Go's
// map order in both) with Jayway's filter-on-object rule (see jsonPath).
// Any other shape is left to ojg.
//
// Written by hand for the throughput aim (issue 20): ojg's
// jp.Expr.Get allocates a 64-entry stack per call and its filters a copy
// of their script per element, 1.6 µs and most of the garbage of a
// matched JSON-path request with 100 stubs, which kept mockserver at
// 0.72-0.76 of a bare handler's throughput; this walks the document
// without allocating: 47 ns against ojg's 1.36 µs and 2.5 KB
// (BenchmarkJSONPathSelects), and mockserver at 0.83-0.85 of the bare
// handler in three of four runs where main gave 0.64-0.77
// (docs/benchmarks.md, "JSON paths without ojg"). The differential test
// and fuzz target (jsonpath_simple_test.go) hold it to ojg's results.
type simplePath []simpleFrag

type simpleFrag struct {
	kind  fragKind
	key   string       // child
	nth   int          // nth; negative counts from the end
	tests []simpleTest // filter: all must hold (&&)
}

type fragKind uint8

const (
	fragChild fragKind = iota
	fragNth
	fragWildcard
	fragFilter
)

// simpleTest is one condition of a filter on a node: the members path
// (none: the node itself) is present, or present and equal to lit.
type simpleTest struct {
	path   []string
	exists bool // presence only; otherwise equality with lit
	lit    any  // string, int64, float64, bool or nil (JSON null)
}

// compileSimple converts a parsed expression to a simplePath; false when
// a fragment or filter is not one of its shapes.
func compileSimple(expr jp.Expr) (simplePath, bool) {
	if len(expr) > 0 {
		switch expr[0].(type) {
		case jp.Root, jp.At:
			expr = expr[1:]
		}
	}
	p := make(simplePath, 0, len(expr))
	for _, f := range expr {
		switch f := f.(type) {
		case jp.Child:
			p = append(p, simpleFrag{kind: fragChild, key: string(f)})
		case jp.Nth:
			p = append(p, simpleFrag{kind: fragNth, nth: int(f)})
		case jp.Wildcard:
			p = append(p, simpleFrag{kind: fragWildcard})
		case *jp.Filter:
			form, operand := filterForm(f)
			var tests []simpleTest
			ok := false
			if form != nil {
				tests, ok = formTests(form)
			} else {
				tests, ok = existsTest(operand)
			}
			if !ok {
				return nil, false
			}
			p = append(p, simpleFrag{kind: fragFilter, tests: tests})
		default:
			return nil, false
		}
	}
	return p, true
}

// filterForm is a filter's top form, or (nil, its one operand) for a
// filter without an operator ([?(@.id)]): ojg's Inspect panics on those.
func filterForm(f *jp.Filter) (form *jp.Form, operand any) {
	defer func() {
		if recover() != nil {
			form = nil
			inner := strings.TrimSuffix(strings.TrimPrefix(f.String(), "[?("), ")]")
			if x, err := jp.ParseString(inner); err == nil && x.String() == inner {
				operand = x
			}
		}
	}()
	return f.Inspect(), nil
}

// formTests are the conditions of a form made of == and && over member
// paths of @ and literals; false for any other form.
func formTests(f *jp.Form) ([]simpleTest, bool) {
	switch f.Op {
	case "(":
		return operandTests(f.Left)
	case "&&":
		l, ok := operandTests(f.Left)
		if !ok {
			return nil, false
		}
		r, ok := operandTests(f.Right)
		return append(l, r...), ok
	case "==":
		for _, pair := range [][2]any{{f.Left, f.Right}, {f.Right, f.Left}} {
			path, ok := memberPath(pair[0])
			if !ok {
				continue
			}
			switch pair[1].(type) {
			case string, int64, float64, bool, nil:
				return []simpleTest{{path: path, lit: pair[1]}}, true
			}
		}
	}
	return nil, false
}

// operandTests: an operand of && or a group is a form or a path, which
// holds when present (ojg takes a found value as true there).
func operandTests(v any) ([]simpleTest, bool) {
	if f, ok := v.(*jp.Form); ok {
		return formTests(f)
	}
	return existsTest(v)
}

func existsTest(v any) ([]simpleTest, bool) {
	path, ok := memberPath(v)
	return []simpleTest{{path: path, exists: true}}, ok
}

// memberPath is the members an expression @.a.b names; false for anything
// else (from $, indexes, wildcards, ...).
func memberPath(v any) ([]string, bool) {
	x, ok := v.(jp.Expr)
	if !ok || len(x) == 0 {
		return nil, false
	}
	if _, at := x[0].(jp.At); !at {
		return nil, false
	}
	path := make([]string, 0, len(x)-1)
	for _, f := range x[1:] {
		c, ok := f.(jp.Child)
		if !ok {
			return nil, false
		}
		path = append(path, string(c))
	}
	return path, true
}

// walk calls yield with each node p selects from node, in order, until
// yield returns false; it returns false when stopped.
func (p simplePath) walk(node any, yield func(any) bool) bool {
	if len(p) == 0 {
		return yield(node)
	}
	f, rest := &p[0], p[1:]
	switch f.kind {
	case fragChild:
		if m, ok := node.(map[string]any); ok {
			if v, ok := m[f.key]; ok {
				return rest.walk(v, yield)
			}
		}
	case fragNth:
		if l, ok := node.([]any); ok {
			i := f.nth
			if i < 0 {
				i += len(l)
			}
			if 0 <= i && i < len(l) {
				return rest.walk(l[i], yield)
			}
		}
	case fragWildcard:
		switch n := node.(type) {
		case map[string]any:
			for _, v := range n {
				if !rest.walk(v, yield) {
					return false
				}
			}
		case []any:
			for _, v := range n {
				if !rest.walk(v, yield) {
					return false
				}
			}
		}
	case fragFilter:
		switch n := node.(type) {
		case map[string]any: // Jayway: a filter on an object tests the object
			if f.holds(n) {
				return rest.walk(n, yield)
			}
		case []any:
			for _, v := range n {
				if f.holds(v) && !rest.walk(v, yield) {
					return false
				}
			}
		}
	}
	return true
}

// holds tells whether a filter's conditions all hold for v.
func (f *simpleFrag) holds(v any) bool {
	for i := range f.tests {
		if !f.tests[i].holds(v) {
			return false
		}
	}
	return true
}

func (t *simpleTest) holds(v any) bool {
	for _, k := range t.path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	if t.exists {
		return true
	}
	// ojg's ==: equal values of one type, and int64 literals equal to
	// the document's float64 numbers of the same value.
	switch lit := t.lit.(type) {
	case string:
		s, ok := v.(string)
		return ok && s == lit
	case float64:
		n, ok := v.(float64)
		return ok && n == lit
	case int64:
		n, ok := v.(float64)
		return ok && n == float64(lit)
	case bool:
		b, ok := v.(bool)
		return ok && b == lit
	case nil:
		return v == nil
	}
	return false
}
