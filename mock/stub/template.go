package stub

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// template is a text with WireMock-style Handlebars expressions in it,
// parsed once. The subset (docs/mockserver.md, "Templating"):
//
//	{{request.url}} {{request.path}} {{request.method}} {{request.body}}
//	{{request.path.[1]}} or {{request.pathSegments.[1]}} (a path segment, from 0)
//	{{request.query.name}} {{request.query.name.[1]}}
//	{{request.headers.X-Name}} {{request.headers.[X-Name]}} {{request.headers.X-Name.[1]}}
//	{{request.cookies.name}}
//	{{request.scheme}} {{request.host}} {{request.port}} {{request.baseUrl}}
//	{{jsonPath request.body '$.a.b'}} {{jsonPath request.body '$.a' default='x'}}
//
// Triple braces mean the same (nothing is HTML-escaped, as in WireMock's
// default). Spring Cloud Contract's {{{jsonpath this '$.a'}}} is read as
// jsonPath of the body. Anything else is an error at load.
type template struct {
	parts []part
}

// part is a literal or an expression.
type part struct {
	literal string
	expr    func(r *Request) string
}

func parseTemplate(text string) (*template, error) {
	t := &template{}
	for {
		start := strings.Index(text, "{{")
		if start < 0 {
			t.parts = append(t.parts, part{literal: text})
			return t, nil
		}
		t.parts = append(t.parts, part{literal: text[:start]})
		open, closing := "{{", "}}"
		if strings.HasPrefix(text[start:], "{{{") {
			open, closing = "{{{", "}}}"
		}
		rest := text[start+len(open):]
		end := strings.Index(rest, closing)
		if end < 0 {
			return nil, fmt.Errorf("template: %q is not closed with %s", shorten(text[start:]), closing)
		}
		expr, err := parseExpr(strings.TrimSpace(rest[:end]))
		if err != nil {
			return nil, fmt.Errorf("template: {{%s}}: %w", strings.TrimSpace(rest[:end]), err)
		}
		t.parts = append(t.parts, part{expr: expr})
		text = rest[end+len(closing):]
	}
}

func (t *template) render(r *Request) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr != nil {
			b.WriteString(p.expr(r))
		} else {
			b.WriteString(p.literal)
		}
	}
	return b.String()
}

var errUnsupportedExpr = errors.New("not in the supported subset (request.url, request.path, request.path.[n], request.query.x, request.headers.x, request.cookies.x, request.method, request.body, request.scheme, request.host, request.port, request.baseUrl, jsonPath request.body '$...')")

func parseExpr(s string) (func(*Request) string, error) {
	words, err := splitWords(s)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errors.New("empty expression")
	}
	switch words[0] {
	case "jsonPath", "jsonpath":
		return parseJSONPathHelper(words[1:])
	}
	if len(words) != 1 {
		return nil, errUnsupportedExpr
	}
	return parseRequestPath(words[0])
}

// parseJSONPathHelper reads "request.body '$.x' [default='v']" (or
// Spring Cloud Contract's "this '$.x'").
func parseJSONPathHelper(args []string) (func(*Request) string, error) {
	if len(args) < 2 || len(args) > 3 || (args[0] != "request.body" && args[0] != "this") || !quoted(args[1]) {
		return nil, errors.New("jsonPath takes request.body, a quoted expression and an optional default='...'")
	}
	jp, err := compileJSONPath(unquote(args[1]))
	if err != nil {
		return nil, err
	}
	def := ""
	if len(args) == 3 {
		v, ok := strings.CutPrefix(args[2], "default=")
		if !ok || !quoted(v) {
			return nil, errors.New("jsonPath's third argument is default='...'")
		}
		def = unquote(v)
	}
	return func(r *Request) string {
		doc, err := r.JSONBody()
		if err != nil {
			return def
		}
		got, ok := jp.selectFrom(doc)
		if !ok {
			return def
		}
		if jp.definite && len(got) == 1 {
			return jsonText(got[0])
		}
		return jsonText(got)
	}, nil
}

func parseRequestPath(s string) (func(*Request) string, error) {
	segs, err := splitPath(s)
	if err != nil {
		return nil, err
	}
	if len(segs) < 2 || segs[0] != "request" {
		return nil, errUnsupportedExpr
	}
	field, rest := segs[1], segs[2:]
	simple := map[string]func(*Request) string{
		"url":    (*Request).URL,
		"method": func(r *Request) string { return r.Method },
		"body":   func(r *Request) string { return string(r.Body) },
		"scheme": func(r *Request) string { return r.Scheme },
		"host":   func(r *Request) string { return hostPort(r.Host, r.Scheme)[0] },
		"port":   func(r *Request) string { return hostPort(r.Host, r.Scheme)[1] },
		"baseUrl": func(r *Request) string {
			return r.Scheme + "://" + r.Host
		},
	}
	if f, ok := simple[field]; ok && len(rest) == 0 {
		return f, nil
	}
	switch field {
	case "path", "pathSegments":
		if len(rest) == 0 && field == "path" {
			return func(r *Request) string { return r.Path }, nil
		}
		if len(rest) != 1 {
			return nil, errUnsupportedExpr
		}
		n, err := index(rest[0])
		if err != nil {
			return nil, err
		}
		return func(r *Request) string { return nth(pathSegments(r.Path), n) }, nil
	case "query", "headers", "cookies":
		if len(rest) < 1 || len(rest) > 2 {
			return nil, errUnsupportedExpr
		}
		name, n := rest[0], 0
		if len(rest) == 2 {
			if n, err = index(rest[1]); err != nil {
				return nil, err
			}
		}
		values := map[string]func(*Request) []string{
			"query":   func(r *Request) []string { return r.Query[name] },
			"headers": func(r *Request) []string { return r.Header.Values(name) },
			"cookies": func(r *Request) []string { return r.Cookies[name] },
		}[field]
		return func(r *Request) string { return nth(values(r), n) }, nil
	}
	return nil, errUnsupportedExpr
}

// index reads "1", "[1]", "first", "last" or "[-1]" (from the end).
func index(s string) (int, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	switch s {
	case "first":
		return 0, nil
	case "last":
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an index", s)
	}
	return n, nil
}

// nth is the nth value, from the end when n < 0; "" when there is none.
func nth(vs []string, n int) string {
	if n < 0 {
		n += len(vs)
	}
	if n < 0 || n >= len(vs) {
		return ""
	}
	return vs[n]
}

func pathSegments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func hostPort(host, scheme string) [2]string {
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		h, p = host, "80"
		if scheme == "https" {
			p = "443"
		}
	}
	return [2]string{h, p}
}

// splitWords splits on spaces outside quotes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == ' ' || c == '\t':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if quote != 0 {
		return nil, errors.New("a quote is not closed")
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words, nil
}

// splitPath splits "request.headers.[X-A.b].1" on dots outside brackets,
// keeping a bracketed name without its brackets unless it is an index.
func splitPath(s string) ([]string, error) {
	var segs []string
	for s != "" {
		if s[0] == '[' {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, errors.New("a [ is not closed")
			}
			seg := s[1:end]
			if _, err := strconv.Atoi(seg); err == nil {
				seg = s[:end+1]
			}
			segs = append(segs, seg)
			s = strings.TrimPrefix(s[end+1:], ".")
			continue
		}
		seg, rest, _ := strings.Cut(s, ".")
		segs = append(segs, seg)
		s = rest
	}
	return segs, nil
}

func quoted(s string) bool {
	return len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0]
}

func unquote(s string) string { return s[1 : len(s)-1] }
