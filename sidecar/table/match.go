package table

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/meshbridge/meshbridge/control"
)

// headerMatcher is a compiled control.HeaderMatch.
type headerMatcher struct {
	name   string // canonical header name
	exact  string
	prefix string
	re     *regexp.Regexp
	kind   uint8
	invert bool
}

const (
	matchExact uint8 = iota
	matchPrefix
	matchRegex
	matchPresent
)

func compileMatchers(ms []control.HeaderMatch) ([]headerMatcher, error) {
	out := make([]headerMatcher, 0, len(ms))
	for _, m := range ms {
		hm := headerMatcher{name: http.CanonicalHeaderKey(m.Name), invert: m.Invert}
		switch {
		case m.Present:
			hm.kind = matchPresent
		case m.Exact != "":
			hm.kind, hm.exact = matchExact, m.Exact
		case m.Prefix != "":
			hm.kind, hm.prefix = matchPrefix, m.Prefix
		default:
			re, err := regexp.Compile(m.Regex)
			if err != nil {
				return nil, err
			}
			hm.kind, hm.re = matchRegex, re
		}
		out = append(out, hm)
	}
	return out, nil
}

func (m *headerMatcher) matches(h http.Header) bool {
	vs, ok := h[m.name]
	var hit bool
	switch m.kind {
	case matchPresent:
		hit = ok
	case matchExact:
		hit = anyValue(vs, func(v string) bool { return v == m.exact })
	case matchPrefix:
		hit = anyValue(vs, func(v string) bool { return strings.HasPrefix(v, m.prefix) })
	case matchRegex:
		hit = anyValue(vs, m.re.MatchString)
	}
	return hit != m.invert
}

func anyValue(vs []string, f func(string) bool) bool {
	for _, v := range vs {
		if f(v) {
			return true
		}
	}
	return false
}

func matchAll(ms []headerMatcher, h http.Header) bool {
	for i := range ms {
		if !ms[i].matches(h) {
			return false
		}
	}
	return true
}

// selectorMatches reports whether labels hold every key of sel with its value.
func selectorMatches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
