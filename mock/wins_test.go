package mock

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The rule for which stub answers: priority, then the more specific,
// then the later added; the journal names the stub that answered and the
// others that matched.
func TestWhichStubWins(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string   // the body of the stub that answers GET /orders/7
		also  []string // the other stubs that matched, by id, in order
	}{
		{"priority first", map[string]string{"m.yaml": `
mappings:
  - {id: specific, request: {method: GET, url: /orders/7}, response: {body: specific}}
  - {id: urgent, priority: 1, request: {urlPattern: /orders/.*}, response: {body: urgent}}
`}, "urgent", []string{"specific"}},
		{"then the more specific", map[string]string{"m.yaml": `
mappings:
  - {id: exact, request: {method: GET, url: /orders/7}, response: {body: exact}}
  - {id: pattern, request: {method: GET, urlPattern: /orders/.*}, response: {body: pattern}}
  - {id: any, request: {urlPathPattern: /orders/.*}, response: {body: any}}
`}, "exact", []string{"pattern", "any"}},
		{"a header makes a stub more specific", map[string]string{"m.yaml": `
mappings:
  - {id: plain, request: {method: GET, urlPath: /orders/7}, response: {body: plain}}
  - {id: coloured, request: {method: GET, urlPath: /orders/7, headers: {X-Colour: {equalTo: blue}}}, response: {body: coloured}}
`}, "coloured", []string{"plain"}},
		{"stubs for one path and patterns keep one order", map[string]string{"m.yaml": `
mappings:
  - {id: late, priority: 9, request: {urlPath: /orders/7}, response: {body: late}}
  - {id: pattern, priority: 3, request: {urlPathPattern: /orders/.*}, response: {body: pattern}}
  - {id: query, priority: 1, request: {url: '/orders/7?colour=blue'}, response: {body: query}}
  - {id: other, priority: 1, request: {urlPath: /orders/8}, response: {body: other}}
  - {id: exact, priority: 2, request: {url: /orders/7}, response: {body: exact}}
  - {id: any-case, priority: 4, request: {urlPathPattern: '(?i)/ORDERS/7'}, response: {body: any-case}}
  - {id: elsewhere, priority: 1, request: {urlPathPattern: '/order/.*'}, response: {body: elsewhere}}
`}, "exact", []string{"pattern", "any-case", "late"}},
		{"then the later in a file", map[string]string{"m.yaml": `
mappings:
  - {id: first, request: {method: GET, urlPattern: '/orders/[0-9]+'}, response: {body: first}}
  - {id: second, request: {method: GET, urlPattern: /orders/.*}, response: {body: second}}
`}, "second", []string{"first"}},
		{"then the later file by path", map[string]string{
			"a.json": `{"id": "a", "request": {"method": "GET", "urlPattern": "/orders/[0-9]+"}, "response": {"body": "a"}}`,
			"b.json": `{"id": "b", "request": {"method": "GET", "urlPattern": "/orders/.*"}, "response": {"body": "b"}}`,
		}, "b", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, Options{}, writeStubs(t, tc.files))
			status, body, _ := call(t, "GET", ts.URL+"/orders/7", "", "X-Colour", "blue")
			if status != 200 || body != tc.want {
				t.Fatalf("answered %d %q, want %q", status, body, tc.want)
			}
			events := journalEvents(t, ts)
			if len(events) != 1 || events[0].StubMapping == nil || events[0].StubMapping.ID == "" {
				t.Fatalf("journal %+v: want one entry naming its stub", events)
			}
			if got := events[0].AlsoMatched; !slices.Equal(got, tc.also) {
				t.Errorf("also matched %v, want %v", got, tc.also)
			}
		})
	}
}

// Equal stubs (one can never answer) are a warning, or in strict mode
// an error naming both, from files and through the admin API.
func TestEqualStubsAreReported(t *testing.T) {
	files := map[string]string{"m.yaml": `
mappings:
  - {id: old, name: the old one, request: {method: GET, url: /x}, response: {body: old}}
  - {id: new, request: {method: GET, url: /x}, response: {body: new}}
`}
	ts := start(t, Options{}, writeStubs(t, files))
	if w := ts.Status().Warnings; len(w) != 1 || !strings.Contains(w[0], `stub "the old one" old`) || !strings.Contains(w[0], "is never used") {
		t.Errorf("warnings %q: want one naming the shadowed stub", w)
	}
	s, err := New(Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.LoadFiles(writeStubs(t, files))
	if err == nil || !strings.Contains(err.Error(), "never used") || !strings.Contains(err.Error(), "m.yaml") {
		t.Fatalf("strict load: %v, want an error naming the file and the stubs", err)
	}
	strict := start(t, Options{Strict: true}, writeStubs(t, map[string]string{"one.yaml": "id: one\nrequest: {method: GET, url: /x}\n"}))
	body := mustStatus(t, 422, "POST", strict.URL+"/__admin/mappings", `{"request": {"method": "GET", "url": "/x"}}`)
	if !strings.Contains(body, "stub one") || len(strict.Stubs()) != 1 {
		t.Fatalf("strict admin: %s, %d stubs", body, len(strict.Stubs()))
	}
}

func journalEvents(t *testing.T, ts *testServer) []serveEvent {
	t.Helper()
	status, body, _ := call(t, "GET", ts.URL+"/__admin/requests", "")
	var out requestsBody
	if err := json.Unmarshal([]byte(body), &out); err != nil || status != 200 {
		t.Fatalf("journal: %d %v: %s", status, err, body)
	}
	return out.Requests
}
