package stub

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request is the view of an HTTP request that stubs match: built once per
// request (NewRequest), read by every stub, its JSON body decoded at most
// once.
type Request struct {
	Method string
	// Scheme is http or https; Host the Host header's value.
	Scheme, Host string
	// Path is the path as sent (escaped); RawQuery the query as sent.
	Path, RawQuery string
	// Query and Cookies are nil when the request has none.
	Query   url.Values
	Header  http.Header
	Cookies map[string][]string
	Body    []byte
	body    lazyJSON
}

// NewRequest builds the view of r, whose body has been read into body.
func NewRequest(r *http.Request, body []byte) *Request {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return newRequest(r.Method, scheme, r.Host, r.URL.EscapedPath(), r.URL.RawQuery, r.Header, body)
}

func newRequest(method, scheme, host, path, rawQuery string, header http.Header, body []byte) *Request {
	req := &Request{
		Method: method, Scheme: scheme, Host: host, Path: path, RawQuery: rawQuery,
		Header: header, Body: body, body: lazyJSON{text: string(body)},
	}
	if rawQuery != "" {
		req.Query, _ = url.ParseQuery(rawQuery) // a malformed pair is left out, as Java's servlet does
	}
	if len(header["Cookie"]) > 0 {
		req.Cookies = map[string][]string{}
		for _, c := range (&http.Request{Header: header}).Cookies() {
			req.Cookies[c.Name] = append(req.Cookies[c.Name], c.Value)
		}
	}
	return req
}

// URL is the path and query, as sent.
func (r *Request) URL() string {
	if r.RawQuery == "" {
		return r.Path
	}
	return r.Path + "?" + r.RawQuery
}

// JSONBody is the body decoded as JSON (decoded once).
func (r *Request) JSONBody() (any, error) { return r.body.get(r.body.text) }

// Mismatch is one condition of a stub that a request failed: the field
// ("method", "url", "headers.Accept", "bodyPatterns[0]", "scenario"),
// what the stub wants and what the request had.
type Mismatch struct {
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	// weight is how much the condition counts in a near miss's distance.
	weight float64
}

// Weights of conditions in a near miss's distance, as WireMock weighs
// them: a request that fails on its URL is far from a stub, one that
// fails on a header is near.
const (
	urlWeight    = 10
	methodWeight = 3
	otherWeight  = 1
)

// Distance is the share of a stub's conditions (by weight) that the
// mismatches fail: 0 matches, 1 fails everything. extra adds the weight
// of conditions the stub package does not see (a scenario's state).
func Distance(ms []Mismatch, s *Stub, extra float64) float64 {
	failed := 0.0
	for _, m := range ms {
		failed += m.weight
	}
	return failed / max(s.req.weight+extra, 1)
}

// NewMismatch is a failed condition outside the request pattern (a
// scenario's state), weighted as one header.
func NewMismatch(field, expected, actual string) Mismatch {
	return Mismatch{field, expected, actual, otherWeight}
}

// requestMatcher is a compiled RequestPattern.
type requestMatcher struct {
	method  string // "" for any
	url     urlMatcher
	query   []namedMatcher
	headers []namedMatcher
	cookies []namedMatcher
	body    []*valueMatcher
	// conditions counts what the pattern checks; weight sums their
	// weights, for near-miss distances.
	conditions int
	weight     float64
	// specificity ranks equal-priority stubs: see Stub.Specificity.
	specificity int
}

type namedMatcher struct {
	name string
	m    *valueMatcher
}

type urlMatcher struct {
	field string // url, urlPath, urlPattern, urlPathPattern; "" for any
	exact string
	re    *whole
}

func (u *urlMatcher) value(r *Request) string {
	if u.field == "url" || u.field == "urlPattern" {
		return r.URL()
	}
	return r.Path
}

func (u *urlMatcher) matches(r *Request) bool {
	switch {
	case u.field == "":
		return true
	case u.re != nil:
		return u.re.MatchString(u.value(r))
	}
	return u.value(r) == u.exact
}

// describe names the condition; exact holds a pattern's text too.
func (u *urlMatcher) describe() string { return u.field + " " + strconv.Quote(u.exact) }

// compileRequest checks p and builds its matcher; errors name the field
// under "request".
func compileRequest(p RequestPattern) (*requestMatcher, error) {
	m := &requestMatcher{}
	switch method := strings.TrimSpace(p.Method); {
	case method == "" || method == "ANY":
	case strings.Trim(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "":
		return nil, fmt.Errorf("request.method: %q is not a method in capitals (or ANY)", p.Method)
	default:
		m.method = method
		m.conditions++
		m.weight += methodWeight
		m.specificity++
	}
	urls := []struct {
		field  string
		v      *string
		regex  bool
		weight int
	}{{"url", p.URL, false, 3}, {"urlPath", p.URLPath, false, 2}, {"urlPattern", p.URLPattern, true, 1}, {"urlPathPattern", p.URLPathPattern, true, 1}}
	for _, u := range urls {
		if u.v == nil {
			continue
		}
		if m.url.field != "" {
			return nil, fmt.Errorf("request: only one of url, urlPath, urlPattern and urlPathPattern may be set (%s and %s)", m.url.field, u.field)
		}
		m.url = urlMatcher{field: u.field, exact: *u.v}
		if u.regex {
			re, err := wholeRegexp(*u.v)
			if err != nil {
				return nil, fmt.Errorf("request.%s: %w", u.field, err)
			}
			m.url.re = re
		}
		m.conditions++
		m.weight += urlWeight
		m.specificity += u.weight
	}
	var err error
	if m.query, err = compileNamed(p.QueryParameters, "request.queryParameters"); err != nil {
		return nil, err
	}
	if m.headers, err = compileNamed(p.Headers, "request.headers"); err != nil {
		return nil, err
	}
	if m.cookies, err = compileNamed(p.Cookies, "request.cookies"); err != nil {
		return nil, err
	}
	for i, bp := range p.BodyPatterns {
		vm, err := compilePattern(bp, fmt.Sprintf("request.bodyPatterns[%d]", i))
		if err != nil {
			return nil, err
		}
		m.body = append(m.body, vm)
	}
	n := len(m.query) + len(m.headers) + len(m.cookies) + len(m.body)
	m.conditions += n
	m.weight += float64(n * otherWeight)
	m.specificity += n
	return m, nil
}

// compileNamed compiles a map of matchers in name order, so that
// near misses list them the same way every time.
func compileNamed(ps map[string]StringPattern, path string) ([]namedMatcher, error) {
	names := make([]string, 0, len(ps))
	for name := range ps {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]namedMatcher, 0, len(names))
	for _, name := range names {
		m, err := compilePattern(ps[name], path+"."+name)
		if err != nil {
			return nil, err
		}
		out = append(out, namedMatcher{name: name, m: m})
	}
	return out, nil
}

// matches reports whether r passes every condition; it stops at the
// first that fails, the cheap ones first.
func (m *requestMatcher) matches(r *Request) bool {
	if m.method != "" && r.Method != m.method {
		return false
	}
	if !m.url.matches(r) {
		return false
	}
	for _, q := range m.query {
		if !q.m.matchValues(r.Query[q.name], nil) {
			return false
		}
	}
	for _, h := range m.headers {
		if !h.m.matchValues(r.Header.Values(h.name), nil) {
			return false
		}
	}
	for _, c := range m.cookies {
		if !c.m.matchValues(r.Cookies[c.name], nil) {
			return false
		}
	}
	for _, b := range m.body {
		if !b.matchValues(r.bodyValues(), &r.body) {
			return false
		}
	}
	return true
}

// bodyValues is the body as a matcher's values: none when it is empty,
// so that absent matches a request without a body.
func (r *Request) bodyValues() []string {
	if r.body.text == "" {
		return nil
	}
	return []string{r.body.text}
}

// explain lists every condition r fails (for near misses).
func (m *requestMatcher) explain(r *Request) []Mismatch {
	var out []Mismatch
	if m.method != "" && r.Method != m.method {
		out = append(out, Mismatch{"method", m.method, r.Method, methodWeight})
	}
	if !m.url.matches(r) {
		out = append(out, Mismatch{m.url.field, m.url.describe(), m.url.value(r), urlWeight})
	}
	named := func(kind string, ms []namedMatcher, values func(string) []string) {
		for _, n := range ms {
			if vs := values(n.name); !n.m.matchValues(vs, nil) {
				out = append(out, Mismatch{kind + "." + n.name, n.m.text, describeValues(vs), otherWeight})
			}
		}
	}
	named("queryParameters", m.query, func(n string) []string { return r.Query[n] })
	named("headers", m.headers, r.Header.Values)
	named("cookies", m.cookies, func(n string) []string { return r.Cookies[n] })
	for i, b := range m.body {
		if vs := r.bodyValues(); !b.matchValues(vs, &r.body) {
			out = append(out, Mismatch{fmt.Sprintf("bodyPatterns[%d]", i), b.text, describeValues(vs), otherWeight})
		}
	}
	return out
}

// describeValues shows what the request had, shortened for a report.
func describeValues(vs []string) string {
	switch len(vs) {
	case 0:
		return "(absent)"
	case 1:
		return shorten(vs[0])
	}
	return shorten(strings.Join(vs, ", "))
}

func shorten(s string) string {
	const most = 200
	if len(s) <= most {
		return s
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
