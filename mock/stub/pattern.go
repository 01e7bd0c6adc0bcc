package stub

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// valueMatcher is a compiled StringPattern: it passes or fails the values
// of one part of a request (a header's, a query parameter's, a cookie's,
// or the body).
type valueMatcher struct {
	// absent: the part must not be there; without it the part must be
	// there and one of its values pass test.
	absent bool
	test   func(s string, doc *lazyJSON) bool
	// text describes the matcher for near misses: `equalTo "x"`.
	text string
}

// matchValues applies the matcher to all of a part's values: absent
// passes when there are none; otherwise one value must pass.
func (m *valueMatcher) matchValues(values []string, doc *lazyJSON) bool {
	if m.absent {
		return len(values) == 0
	}
	for _, v := range values {
		if m.test(v, doc) {
			return true
		}
	}
	return false
}

// lazyJSON decodes a value as JSON once, when a JSON matcher first asks.
type lazyJSON struct {
	text string
	done bool
	doc  any
	err  error
}

func (l *lazyJSON) get(text string) (any, error) {
	if l == nil || l.text != text {
		return decodeJSON([]byte(text))
	}
	if !l.done {
		l.doc, l.err = decodeJSON([]byte(l.text))
		l.done = true
	}
	return l.doc, l.err
}

// compilePattern checks that p has exactly one operator and builds its
// matcher; path names p in errors ("request.headers.Accept").
func compilePattern(p StringPattern, path string) (*valueMatcher, error) {
	var ops []string
	var m *valueMatcher
	add := func(op string, build func() (*valueMatcher, error)) error {
		ops = append(ops, op)
		if len(ops) > 1 {
			return fmt.Errorf("%s: more than one operator (%s)", path, strings.Join(ops, ", "))
		}
		var err error
		m, err = build()
		if err != nil {
			return fmt.Errorf("%s.%s: %w", path, op, err)
		}
		return nil
	}
	var errs []error
	if p.EqualTo != nil {
		errs = append(errs, add("equalTo", func() (*valueMatcher, error) { return equalTo(*p.EqualTo, p.CaseInsensitive), nil }))
	}
	if p.Contains != nil {
		want := *p.Contains
		errs = append(errs, add("contains", func() (*valueMatcher, error) {
			return &valueMatcher{test: func(s string, _ *lazyJSON) bool { return strings.Contains(s, want) }, text: "contains " + strconv.Quote(want)}, nil
		}))
	}
	if p.DoesNotContain != nil {
		want := *p.DoesNotContain
		errs = append(errs, add("doesNotContain", func() (*valueMatcher, error) {
			return &valueMatcher{test: func(s string, _ *lazyJSON) bool { return !strings.Contains(s, want) }, text: "doesNotContain " + strconv.Quote(want)}, nil
		}))
	}
	if p.Matches != nil {
		errs = append(errs, add("matches", func() (*valueMatcher, error) { return regexMatcher(*p.Matches, true) }))
	}
	if p.DoesNotMatch != nil {
		errs = append(errs, add("doesNotMatch", func() (*valueMatcher, error) { return regexMatcher(*p.DoesNotMatch, false) }))
	}
	if p.Absent != nil {
		absent := *p.Absent
		errs = append(errs, add("absent", func() (*valueMatcher, error) {
			if !absent {
				// WireMock's absent:false asks for the part to be there.
				return &valueMatcher{test: func(string, *lazyJSON) bool { return true }, text: "present"}, nil
			}
			return &valueMatcher{absent: true, text: "absent"}, nil
		}))
	}
	if p.EqualToJSON != nil {
		errs = append(errs, add("equalToJson", func() (*valueMatcher, error) {
			return equalToJSON(*p.EqualToJSON, p.IgnoreArrayOrder, p.IgnoreExtraElements)
		}))
	}
	if p.MatchesJSONPath != nil {
		errs = append(errs, add("matchesJsonPath", func() (*valueMatcher, error) { return matchesJSONPath(*p.MatchesJSONPath, path+".matchesJsonPath") }))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	switch {
	case len(ops) == 0:
		return nil, fmt.Errorf("%s: no operator (one of equalTo, contains, doesNotContain, matches, doesNotMatch, absent, equalToJson, matchesJsonPath)", path)
	case p.CaseInsensitive && ops[0] != "equalTo":
		return nil, fmt.Errorf("%s.caseInsensitive: applies to equalTo only", path)
	case (p.IgnoreArrayOrder || p.IgnoreExtraElements) && ops[0] != "equalToJson":
		return nil, fmt.Errorf("%s: ignoreArrayOrder and ignoreExtraElements apply to equalToJson only", path)
	}
	return m, nil
}

func equalTo(want string, fold bool) *valueMatcher {
	if fold {
		return &valueMatcher{test: func(s string, _ *lazyJSON) bool { return strings.EqualFold(s, want) }, text: "equalTo " + strconv.Quote(want) + " (case-insensitive)"}
	}
	return &valueMatcher{test: func(s string, _ *lazyJSON) bool { return s == want }, text: "equalTo " + strconv.Quote(want)}
}

// regexMatcher matches the whole value, as Java's Pattern.matches does
// for WireMock.
func regexMatcher(expr string, want bool) (*valueMatcher, error) {
	re, err := wholeRegexp(expr)
	if err != nil {
		return nil, err
	}
	op := "matches"
	if !want {
		op = "doesNotMatch"
	}
	return &valueMatcher{test: func(s string, _ *lazyJSON) bool { return re.MatchString(s) == want }, text: op + " " + strconv.Quote(expr)}, nil
}

// wholeRegexp compiles expr anchored at both ends.
func wholeRegexp(expr string) (*whole, error) {
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("invalid regex %q: %w", expr, errors.Unwrap(err))
	}
	prefix, _ := re.LiteralPrefix()
	return &whole{re: re, prefix: prefix}, nil
}

// whole is a regular expression that matches whole values.
type whole struct {
	re *regexp.Regexp
	// prefix begins every value it matches (regexp's LiteralPrefix).
	prefix string
}

// MatchString tells whether re matches all of s. A value without the
// literal prefix fails before the regexp engine runs: most of a set's
// URL patterns fail a request that way (/regex/7/.* on /regex/9/x),
// and the engine's run costs a pooled machine's get and put even then.
func (w *whole) MatchString(s string) bool {
	return strings.HasPrefix(s, w.prefix) && w.re.MatchString(s)
}

func equalToJSON(v JSONValue, ignoreOrder, ignoreExtra bool) (*valueMatcher, error) {
	text, err := v.Document()
	if err != nil {
		return nil, err
	}
	want, err := decodeJSON(text)
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	desc := "equalToJson " + string(text)
	if ignoreOrder {
		desc += " (ignoreArrayOrder)"
	}
	if ignoreExtra {
		desc += " (ignoreExtraElements)"
	}
	return &valueMatcher{test: func(s string, doc *lazyJSON) bool {
		got, err := doc.get(s)
		return err == nil && jsonEqual(want, got, ignoreOrder, ignoreExtra)
	}, text: desc}, nil
}

func matchesJSONPath(p JSONPathPattern, path string) (*valueMatcher, error) {
	jp, err := compileJSONPath(p.Expression)
	if err != nil {
		return nil, err
	}
	if !p.object {
		return &valueMatcher{test: func(s string, doc *lazyJSON) bool {
			if !jp.mayMatch(s) {
				return false
			}
			d, err := doc.get(s)
			if err != nil {
				return false
			}
			return jp.selects(d)
		}, text: "matchesJsonPath " + strconv.Quote(p.Expression)}, nil
	}
	sub, err := compilePattern(p.StringPattern, path)
	if err != nil {
		return nil, err
	}
	return &valueMatcher{test: func(s string, doc *lazyJSON) bool {
		d, err := doc.get(s)
		if err != nil {
			return false
		}
		var got []any // nothing selected; the sub-pattern may still match that (absent)
		if jp.mayMatch(s) {
			got, _ = jp.selectFrom(d)
		}
		return sub.matchValues(jp.texts(got), nil)
	}, text: "matchesJsonPath " + strconv.Quote(p.Expression) + " " + sub.text}, nil
}
