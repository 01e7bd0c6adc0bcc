package openapi

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/meshbridge/meshbridge/mock"
	"github.com/meshbridge/meshbridge/mock/mocktest"
)

// specs are the documents in testdata: three of the OpenAPI
// Specification's own examples and two written here (testdata/README.md).
var specs = []string{"payments.yaml", "shapes.yaml", "shapes-3.1.yaml"}

// serve imports spec into a stub root and serves it through the mock
// engine on loopback.
func serve(t *testing.T, spec string) (*openapi3.T, string) {
	t.Helper()
	path := filepath.Join("testdata", spec)
	doc, err := Load(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if _, _, err := Import(t.Context(), path, root, Options{}); err != nil {
		t.Fatal(err)
	}
	return doc, mocktest.Serve(t, mock.Options{Strict: true}, root)
}

// TestEveryOperationAnswersSchemaValid calls every operation of each
// spec through the real mock server, with its path parameters and
// required parameters filled from their schemas, and validates the
// answer (status, headers, body) against the spec with kin-openapi's
// response validation.
func TestEveryOperationAnswersSchemaValid(t *testing.T) {
	for _, spec := range specs {
		t.Run(spec, func(t *testing.T) {
			doc, url := serve(t, spec)
			base, err := doc.Servers.BasePath()
			if err != nil {
				t.Fatal(err)
			}
			base = strings.TrimSuffix(base, "/")
			calls := 0
			for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
				item := doc.Paths.Value(path)
				for method, op := range item.Operations() {
					calls++
					checkOperation(t, doc, url+base, path, method, item, op)
				}
			}
			if calls == 0 {
				t.Fatal("no operations")
			}
		})
	}
}

func checkOperation(t *testing.T, doc *openapi3.T, url, path, method string, item *openapi3.PathItem, op *openapi3.Operation) {
	t.Helper()
	params := parameters(item, op)
	pathParams := map[string]string{}
	filled := path
	for _, p := range params {
		if p.In == openapi3.ParameterInPath {
			v, _ := parameterValue(p)
			pathParams[p.Name] = text(v)
			filled = strings.ReplaceAll(filled, "{"+p.Name+"}", text(v))
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url+filled, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	for _, p := range params {
		if !p.Required || p.In == openapi3.ParameterInPath {
			continue
		}
		v, _ := parameterValue(p)
		switch p.In {
		case openapi3.ParameterInQuery:
			q.Set(p.Name, text(v))
		case openapi3.ParameterInHeader:
			req.Header.Set(p.Name, text(v))
		case openapi3.ParameterInCookie:
			req.AddCookie(&http.Cookie{Name: p.Name, Value: text(v)})
		}
	}
	req.URL.RawQuery = q.Encode()
	status, body, header := do(t, req)
	want, _ := pickResponse(op.Responses)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in.SetBodyBytes(body)); err != nil {
		t.Errorf("%s %s: the answer is not valid for the spec: %v\nbody: %s", method, path, err, body)
	}
}

// TestExamplesWin: an operation's example is its answer, before the
// schema's; of named examples the first by name.
func TestExamplesWin(t *testing.T) {
	_, url := serve(t, "shapes.yaml")
	for _, c := range []struct{ path, want string }{
		{"/api/orders/7", `{"amount":70.25,"code":"XYZ-0007","id":7,"note":"handle with care","status":"shipped"}`},
		{"/api/orders/mine", `[{"amount":1.5,"code":"ABC-0001","id":1,"status":"new"}]`},
		{"/api/health", `{"status":"UP"}`},
		{"/api/orders/7/receipt", `receipt for order 7`},
	} {
		status, body, _ := get(t, url+c.path)
		if status != http.StatusOK || compact(body) != c.want {
			t.Errorf("GET %s: %d %s, want 200 %s", c.path, status, body, c.want)
		}
	}
}

// TestGeneratedBody: without an example the body is built from the
// schema: required and optional properties, formats, a pattern, bounds,
// enums, nested objects, writeOnly left out.
func TestGeneratedBody(t *testing.T) {
	_, url := serve(t, "shapes.yaml")
	status, body, header := get(t, url+"/api/orders?status=new")
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var page struct {
		Items []map[string]any `json:"items"`
		Total float64          `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Total != 5 {
		t.Fatalf("items %d, total %v; want 2 items (minItems), total 5 (> 0, a multiple of 5): %s", len(page.Items), page.Total, body)
	}
	o := page.Items[0]
	for key, want := range map[string]any{"code": "AAA-0000", "status": "new", "createdAt": "2024-01-02T03:04:05Z", "id": 1.0, "amount": 1.5, "note": "stringxxxxxx"} {
		if o[key] != want {
			t.Errorf("items[0].%s = %v, want %v", key, o[key], want)
		}
	}
	if page.Items[1]["status"] != "paid" {
		t.Errorf("items[1].status = %v, want paid (items vary for uniqueItems)", page.Items[1]["status"])
	}
	if _, ok := o["secret"]; ok {
		t.Error("a writeOnly property is in a response")
	}
	if header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", header.Get("Content-Type"))
	}
}

// TestRequestPatterns: templated paths match only their parameters'
// values (digits for an integer, an enum's values) and required
// parameters must be there; what does not match gets the engine's 404.
func TestRequestPatterns(t *testing.T) {
	_, url := serve(t, "shapes.yaml")
	for _, c := range []struct {
		method, path string
		header       []string
		want         int
	}{
		{"GET", "/api/orders/12", nil, 200},
		{"GET", "/api/orders/abc", nil, 404},
		{"GET", "/api/orders/12/extra", nil, 404},
		{"GET", "/orders/12", nil, 404}, // without the server's base path
		{"GET", "/api/shapes/circle", nil, 200},
		{"GET", "/api/shapes/triangle", nil, 404},
		{"GET", "/api/orders", nil, 404},  // the required query parameter status
		{"POST", "/api/orders", nil, 404}, // the required header X-Tenant
		{"POST", "/api/orders", []string{"X-Tenant", "t1"}, 201},
		{"DELETE", "/api/orders/3", nil, 204},
	} {
		req, err := http.NewRequestWithContext(t.Context(), c.method, url+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(c.header); i += 2 {
			req.Header.Set(c.header[i], c.header[i+1])
		}
		if status, _, _ := do(t, req); status != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, status, c.want)
		}
	}
}

// TestBasePath: "/" puts the paths at the root.
func TestBasePath(t *testing.T) {
	doc, err := Load(t.Context(), "testdata/payments.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for base, want := range map[string]string{"": "/v2/payments", "/": "/payments", "/svc/": "/svc/payments"} {
		ms, err := Mappings(doc, Options{BasePath: base})
		if err != nil {
			t.Fatal(err)
		}
		if got := *ms[0].Request.URLPath; got != want {
			t.Errorf("BasePath %q: %s, want %s", base, got, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"testdata/bad-example.yaml", `invalid path /pets/{id}: invalid operation GET: invalid example: Error at "/name"`},
		{"testdata/missing.yaml", "missing.yaml"},
		{"testdata/README.md", "testdata/README.md"},
	} {
		_, err := Load(t.Context(), c.file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%s) = %v, want an error naming %s", c.file, err, c.want)
		}
	}
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body, header := do(t, req)
	return status, string(body), header
}

func do(t *testing.T, req *http.Request) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

func compact(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
