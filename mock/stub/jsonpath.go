package stub

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ohler55/ojg/jp"
)

// jsonPath is a compiled matchesJsonPath expression. WireMock evaluates
// them with Jayway JsonPath, and Spring Cloud Contract writes its stubs in
// Jayway's dialect; ojg (github.com/ohler55/ojg/jp) parses nearly the same
// dialect, and jaywayPath bridges the rest (see there).
type jsonPath struct {
	text string
	// steps are the expression cut before each filter: Jayway applies a
	// filter to an object itself (as if it were a list of one), where
	// ojg would apply it to the object's members, so between steps an
	// object is wrapped in a list.
	steps []jsonStep
	// definite is a path that names one place (no wildcard, filter,
	// descent, slice or union): a value found there is a match even when
	// it is an empty list or object, as in WireMock.
	definite bool
	// required are strings the expression's filters compare for equality
	// (@.sku == 'sku-7', joined by &&): nothing is selected unless each is
	// a string in the document. See mayMatch.
	required []string
	// simple evaluates the expression without ojg when it is one of the
	// common shapes (fast); see simplePath.
	simple simplePath
	fast   bool
}

func compileJSONPath(text string) (*jsonPath, error) {
	expr, err := jp.ParseString(jaywayPath(text))
	if err != nil {
		return nil, fmt.Errorf("invalid JSONPath %q: %w", text, err)
	}
	p := &jsonPath{text: text, definite: true}
	p.simple, p.fast = compileSimple(expr)
	start := 0
	if len(expr) > 0 {
		switch expr[0].(type) {
		case jp.Root, jp.At:
			start = 1
		}
	}
	wrap := false
	for i := start; i < len(expr); i++ {
		switch expr[i].(type) {
		case jp.Wildcard, jp.Descent, jp.Slice, jp.Union:
			p.definite = false
		case *jp.Filter:
			p.definite = false
			if form, _ := filterForm(expr[i].(*jp.Filter)); form != nil {
				p.required = append(p.required, requiredStrings(form)...)
			}
			if _, afterDescent := expr[max(i-1, 0)].(jp.Descent); afterDescent {
				continue
			}
			if i > start {
				p.steps = append(p.steps, jsonStep{step(expr[start:i]), wrap})
			}
			start, wrap = i, true
		}
	}
	p.steps = append(p.steps, jsonStep{step(expr[start:]), wrap})
	return p, nil
}

// requiredStrings are the string literals a filter's form compares for
// equality with a value of the document when the form can only be true
// if every such comparison is: == itself, both sides of &&, a group.
// Other forms (||, !, <, =~, ...) require nothing.
func requiredStrings(f *jp.Form) []string {
	switch f.Op {
	case "==":
		for _, pair := range [][2]any{{f.Left, f.Right}, {f.Right, f.Left}} {
			_, isPath := pair[0].(jp.Expr)
			if lit, ok := pair[1].(string); ok && isPath && verbatimInJSON(lit) {
				return []string{lit}
			}
		}
	case "&&", "(":
		var out []string
		for _, side := range []any{f.Left, f.Right} {
			if sub, ok := side.(*jp.Form); ok {
				out = append(out, requiredStrings(sub)...)
			}
		}
		return out
	}
	return nil
}

// verbatimInJSON: a JSON string equal to s, in a document without any
// escape, holds s's bytes as they are (no quote, backslash or control
// character to escape, and no U+FFFD, which a decoder puts for bytes that
// are not UTF-8).
func verbatimInJSON(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 || r == utf8.RuneError })
}

// mayMatch is false when the expression cannot select anything in the
// JSON document text: a string its filters require is not in it. A text
// with a backslash may escape a string's characters, so it may match.
// Most filter stubs (Spring Cloud Contract writes one per field) fail
// here, without decoding or evaluating. Written by hand for the issue's
// throughput aim: with 33 JSONPath stubs on one URL, BenchmarkServe100Stubs
// went from 83-92 to 14-18 µs a request and mock/bare throughput from 0.28
// to 0.73 (docs/benchmarks.md, "Mock server").
func (p *jsonPath) mayMatch(text string) bool {
	if len(p.required) == 0 || strings.IndexByte(text, '\\') >= 0 {
		return true
	}
	for _, r := range p.required {
		if !strings.Contains(text, r) {
			return false
		}
	}
	return true
}

// jsonStep is a part of an expression; wrap: an object it starts from is
// taken as a list of one.
type jsonStep struct {
	expr jp.Expr
	wrap bool
}

// step is part of an expression made to run from a node ("@...").
func step(frags jp.Expr) jp.Expr { return append(jp.Expr{jp.At('@')}, frags...) }

// selectFrom returns what the expression selects in doc, a decoded JSON
// document, and whether it selected anything.
func (p *jsonPath) selectFrom(doc any) ([]any, bool) {
	var nodes []any
	if p.fast {
		p.simple.walk(doc, func(v any) bool { nodes = append(nodes, v); return true })
	} else {
		nodes = p.selectByOJG(doc)
	}
	if p.definite {
		return nodes, len(nodes) == 1 && nodes[0] != nil
	}
	return nodes, len(nodes) > 0
}

// selects tells whether the expression selects anything in doc, as
// selectFrom does, without collecting what (nor allocating, for a simple
// path): what a matchesJsonPath without a sub-pattern asks.
func (p *jsonPath) selects(doc any) bool {
	if !p.fast {
		_, ok := p.selectFrom(doc)
		return ok
	}
	if p.definite { // one node at most: found and not null
		found := false
		p.simple.walk(doc, func(v any) bool { found = v != nil; return false })
		return found
	}
	found := false
	p.simple.walk(doc, func(any) bool { found = true; return false })
	return found
}

func (p *jsonPath) selectByOJG(doc any) []any {
	nodes := []any{doc}
	for _, s := range p.steps {
		if s.wrap {
			nodes = slices.DeleteFunc(nodes, func(n any) bool { return n == nil }) // ojg's filters panic on null; they select nothing
			for j, n := range nodes {
				if m, ok := n.(map[string]any); ok {
					nodes[j] = []any{m}
				}
			}
		}
		var next []any
		for _, n := range nodes {
			next = append(next, s.expr.Get(n)...)
		}
		nodes = next
	}
	return nodes
}

// texts turns what an expression selected into the strings a matcher
// compares, as WireMock does: scalars as their text, objects and lists as
// JSON; a list found at a definite path gives its items.
func (p *jsonPath) texts(got []any) []string {
	if p.definite && len(got) == 1 {
		switch v := got[0].(type) {
		case nil:
			return nil // a null found is nothing to compare, as in WireMock
		case []any:
			got = v
		}
	}
	out := make([]string, 0, len(got))
	for _, v := range got {
		out = append(out, jsonText(v))
	}
	return out
}

func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return "null"
	case map[string]any, []any:
		b, _ := json.Marshal(v) // a decoded document always encodes
		return string(b)
	}
	return fmt.Sprint(v)
}

// jaywayPath rewrites the two Jayway habits ojg does not share, outside
// quoted strings: a dot before a bracket ("@.['name']", as Spring Cloud
// Contract writes) is dropped, and a regular expression after =~ is
// anchored at both ends, because Jayway matches the whole value
// (Java's Pattern.matches) where Go's regexp finds a part; its flags
// after the closing slash become an inline group ("/x/i" → "(?i)").
func jaywayPath(s string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(s) {
				b.WriteByte(c)
				i++
				c = s[i]
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '.' && i+1 < len(s) && s[i+1] == '[' && (i == 0 || s[i-1] != '.'):
			continue // "..[" is a descent: its dots stay
		case c == '=' && i+1 < len(s) && s[i+1] == '~':
			b.WriteString("=~")
			i = anchorRegex(&b, s, i+2)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// anchorRegex copies the /regex/flags literal that starts at or after i
// (past white space), anchored; it returns the index of its last byte.
func anchorRegex(b *strings.Builder, s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		b.WriteByte(' ')
		i++
	}
	if i >= len(s) || s[i] != '/' {
		return i - 1 // not a literal: leave it to the parser's error
	}
	end := i + 1
	for end < len(s) && s[end] != '/' {
		if s[end] == '\\' {
			end++
		}
		end++
	}
	if end >= len(s) {
		b.WriteString(s[i:])
		return len(s) - 1
	}
	flags := end + 1
	for flags < len(s) && strings.IndexByte("imsx", s[flags]) >= 0 {
		flags++
	}
	b.WriteByte('/')
	if f := s[end+1 : flags]; f != "" {
		b.WriteString("(?" + f + ")")
	}
	b.WriteString("^(?:" + s[i+1:end] + ")$/")
	return flags - 1
}
