package openapi

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// Priorities of imported stubs: behind hand-written ones (default 5), a
// concrete path before a templated one.
const (
	PriorityConcrete  = 6
	PriorityTemplated = 7
)

// Options tune Mappings.
type Options struct {
	// BasePath is put before every path: "" takes the first server's
	// (https://petstore.example/v2 gives /v2; none gives /), "/" puts
	// nothing.
	BasePath string
}

// Mappings makes one stub per operation of doc, in path and then method
// order. Errors name the operation.
func Mappings(doc *openapi3.T, opts Options) ([]stub.Mapping, error) {
	base := opts.BasePath
	if base == "" {
		var err error
		if base, err = doc.Servers.BasePath(); err != nil {
			return nil, fmt.Errorf("openapi: servers[0].url: %w", err)
		}
	}
	base = strings.TrimSuffix(base, "/")
	var out []stub.Mapping
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for _, method := range slices.Sorted(maps.Keys(item.Operations())) {
			m, err := mapping(base, path, method, item, item.GetOperation(method))
			if err != nil {
				return nil, fmt.Errorf("openapi: paths.%s.%s: %w", path, strings.ToLower(method), err)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

func mapping(base, path, method string, item *openapi3.PathItem, op *openapi3.Operation) (stub.Mapping, error) {
	params := parameters(item, op)
	name := method + " " + path
	if op.OperationID != "" {
		name = op.OperationID
	}
	m := stub.Mapping{
		ID:       operationID(method, base+path),
		Name:     name,
		Metadata: map[string]any{"source": "openapi", "operation": method + " " + path},
		Request:  stub.RequestPattern{Method: method},
	}
	priority := PriorityConcrete
	if strings.Contains(path, "{") {
		priority = PriorityTemplated
		pattern, err := pathPattern(base+path, params)
		if err != nil {
			return m, err
		}
		m.Request.URLPathPattern = &pattern
	} else {
		full := base + path
		m.Request.URLPath = &full
	}
	m.Priority = &priority
	present := stub.StringPattern{Absent: new(false)}
	for _, p := range params {
		if !p.Required {
			continue
		}
		switch p.In {
		case openapi3.ParameterInQuery:
			m.Request.QueryParameters = set(m.Request.QueryParameters, p.Name, present)
		case openapi3.ParameterInHeader:
			if !ignoredHeader(p.Name) {
				m.Request.Headers = set(m.Request.Headers, p.Name, present)
			}
		case openapi3.ParameterInCookie:
			m.Request.Cookies = set(m.Request.Cookies, p.Name, present)
		}
	}
	resp, err := response(op)
	if err != nil {
		return m, err
	}
	m.Response = resp
	return m, nil
}

func set(ps map[string]stub.StringPattern, name string, p stub.StringPattern) map[string]stub.StringPattern {
	if ps == nil {
		ps = map[string]stub.StringPattern{}
	}
	ps[name] = p
	return ps
}

// ignoredHeader: OpenAPI says header parameters named Accept,
// Content-Type or Authorization are ignored (those are described
// elsewhere).
func ignoredHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Accept", "Content-Type", "Authorization":
		return true
	}
	return false
}

// parameters are the path item's parameters with the operation's in
// their place (the operation's win), in their order.
func parameters(item *openapi3.PathItem, op *openapi3.Operation) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, ref := range op.Parameters {
		if ref.Value != nil {
			out = append(out, ref.Value)
		}
	}
	for _, ref := range item.Parameters {
		if p := ref.Value; p != nil && op.Parameters.GetByInAndName(p.In, p.Name) == nil {
			out = append(out, p)
		}
	}
	return out
}

// pathPattern turns a path template into a regular expression: each
// {name} matches one segment's worth (digits for an integer, the values
// of an enum, else anything but a slash), the rest literally.
func pathPattern(template string, params []*openapi3.Parameter) (string, error) {
	var b strings.Builder
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("path template %q: unclosed {", template)
		}
		b.WriteString(regexp.QuoteMeta(rest[:open]))
		name := rest[open+1 : open+end]
		b.WriteString(segmentPattern(pathParam(params, name)))
		rest = rest[open+end+1:]
	}
	b.WriteString(regexp.QuoteMeta(rest))
	return b.String(), nil
}

func pathParam(params []*openapi3.Parameter, name string) *openapi3.Schema {
	for _, p := range params {
		if p.In == openapi3.ParameterInPath && p.Name == name && p.Schema != nil {
			return p.Schema.Value
		}
	}
	return nil
}

func segmentPattern(s *openapi3.Schema) string {
	switch {
	case s == nil:
	case len(s.Enum) > 0:
		alts := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			alts[i] = regexp.QuoteMeta(text(v))
		}
		return "(?:" + strings.Join(alts, "|") + ")"
	case s.Type.Is(openapi3.TypeInteger):
		return "-?[0-9]+"
	}
	return "[^/]+"
}

// response is the stub's answer: the operation's first 2xx response
// (2XX as 200), else default as 200, else its lowest status.
func response(op *openapi3.Operation) (*stub.ResponseDefinition, error) {
	status, ref := pickResponse(op.Responses)
	out := &stub.ResponseDefinition{Status: status}
	if ref == nil || ref.Value == nil {
		return out, nil
	}
	r := ref.Value
	for _, name := range slices.Sorted(maps.Keys(r.Headers)) {
		h := r.Headers[name]
		if h.Value == nil || strings.EqualFold(name, "Content-Type") {
			continue
		}
		if v, ok := parameterValue(&h.Value.Parameter); ok {
			out.Headers = setHeader(out.Headers, name, text(v))
		}
	}
	mediaType, mt := pickMediaType(r.Content)
	if mt == nil {
		return out, nil
	}
	body, ok := mediaValue(mt)
	if !ok {
		return out, nil
	}
	contentType := concreteType(mediaType)
	out.Headers = setHeader(out.Headers, "Content-Type", contentType)
	if err := setBody(out, contentType, body); err != nil {
		return nil, fmt.Errorf("responses.%d: %w", status, err)
	}
	return out, nil
}

func setHeader(h map[string]stub.HeaderValues, name, value string) map[string]stub.HeaderValues {
	if h == nil {
		h = map[string]stub.HeaderValues{}
	}
	h[name] = stub.HeaderValues{value}
	return h
}

func pickResponse(rs *openapi3.Responses) (int, *openapi3.ResponseRef) {
	if rs == nil {
		return http.StatusOK, nil
	}
	lowest, lowestRef := 0, (*openapi3.ResponseRef)(nil)
	for key, ref := range rs.Map() {
		code, err := strconv.Atoi(key)
		if strings.EqualFold(key, "2XX") {
			code, err = http.StatusOK, nil
		}
		if err != nil {
			continue // default, or a range other than 2XX
		}
		if lowest == 0 || code < lowest || (code == lowest && key != "2XX") {
			lowest, lowestRef = code, ref
		}
	}
	if lowest >= 200 && lowest < 300 {
		return lowest, lowestRef
	}
	if d := rs.Default(); d != nil {
		return http.StatusOK, d
	}
	if lowest == 0 {
		return http.StatusOK, nil
	}
	return lowest, lowestRef
}

// pickMediaType prefers application/json, then another JSON type, then
// the first by name.
func pickMediaType(content openapi3.Content) (string, *openapi3.MediaType) {
	if len(content) == 0 {
		return "", nil
	}
	names := slices.Sorted(maps.Keys(content))
	if mt, ok := content["application/json"]; ok {
		return "application/json", mt
	}
	for _, n := range names {
		if isJSON(n) {
			return n, content[n]
		}
	}
	return names[0], content[names[0]]
}

func isJSON(mediaType string) bool {
	t, _, _ := strings.Cut(mediaType, ";")
	t = strings.TrimSpace(strings.ToLower(t))
	return strings.HasSuffix(t, "/json") || strings.HasSuffix(t, "+json")
}

// concreteType makes a media-type range a type a response can carry.
func concreteType(mediaType string) string {
	switch mediaType {
	case "*/*", "application/*":
		return "application/json"
	case "text/*":
		return "text/plain"
	}
	return mediaType
}

// mediaValue is the media type's example (example, else the first of
// examples by name), else its schema's sample; false when it has
// neither.
func mediaValue(mt *openapi3.MediaType) (any, bool) {
	return exampleOr(mt.Example, mt.Examples, mt.Schema)
}

// parameterValue is a parameter's or header's example, else its
// schema's sample.
func parameterValue(p *openapi3.Parameter) (any, bool) {
	return exampleOr(p.Example, p.Examples, p.Schema)
}

func exampleOr(example any, examples openapi3.Examples, schema *openapi3.SchemaRef) (any, bool) {
	if example != nil {
		return example, true
	}
	if v, ok := firstExample(examples); ok {
		return v, true
	}
	if schema != nil {
		return sample(schema, 0, 0), true
	}
	return nil, false
}

func firstExample(examples openapi3.Examples) (any, bool) {
	for _, name := range slices.Sorted(maps.Keys(examples)) {
		if ex := examples[name]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
			return ex.Value.Value, true
		}
	}
	return nil, false
}

// setBody puts v in the response: JSON as jsonBody (a string example
// that holds a JSON object or array is sent as it is written), other
// types' strings as body, anything else as its JSON text.
func setBody(r *stub.ResponseDefinition, contentType string, v any) error {
	if s, ok := v.(string); ok && (!isJSON(contentType) || isJSONDocument(s)) {
		r.Body = &s
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("example: %w", err)
	}
	if !isJSON(contentType) {
		body := string(raw)
		r.Body = &body
		return nil
	}
	var jv stub.JSONValue
	if err := jv.UnmarshalJSON(raw); err != nil {
		return fmt.Errorf("example: %w", err)
	}
	r.JSONBody = &jv
	return nil
}

func isJSONDocument(s string) bool {
	t := strings.TrimSpace(s)
	return (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t))
}

// operationID names an operation's stub the same at every import (a
// UUID made from a hash, version 8), so reloads keep it.
func operationID(method, path string) string {
	sum := sha256.Sum256([]byte("openapi " + method + " " + path))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
