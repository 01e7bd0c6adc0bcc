package mock

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// BenchmarkServe100Stubs is the engine's cost per request with the 100
// stubs of tools/mockbench (a third exact paths, a third path regexes, a
// third POST /orders with a JSONPath filter on the body), each request
// answered by the last stub of its kind, so that every stub before it is
// tried and every stub of its kind evaluated (the journal lists the
// others that matched), without the network:
//
//	go test -run '^$' -bench Serve100Stubs -benchmem ./mock/
func BenchmarkServe100Stubs(b *testing.B) {
	var files strings.Builder
	files.WriteString("mappings:\n")
	for i := range 100 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&files, "  - {request: {method: GET, urlPath: /items/%d}, response: {body: item-%d}}\n", i, i)
		case 1:
			fmt.Fprintf(&files, "  - {request: {method: GET, urlPathPattern: '/regex/%d/[0-9a-f]+'}, response: {body: regex-%d}}\n", i, i)
		case 2:
			fmt.Fprintf(&files, "  - {request: {method: POST, urlPath: /orders, bodyPatterns: [{matchesJsonPath: \"$.items[?(@.sku == 'sku-%d')]\"}]}, response: {body: order-%d}}\n", i, i)
		}
	}
	s, err := New(Options{Logger: slog.New(slog.DiscardHandler), JournalEntries: 1000})
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	writeBenchFile(b, root+"/stubs.yaml", files.String())
	if err := s.LoadFiles(root); err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	for _, c := range []struct{ name, method, path, body, want string }{
		{"exact path", "GET", "/items/99", "", "item-99"},
		{"path regex", "GET", "/regex/97/c0ffee", "", "regex-97"},
		{"JSON path", "POST", "/orders", `{"items":[{"sku":"sku-98","qty":1}]}`, "order-98"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(c.method, c.path, strings.NewReader(c.body)))
				if w.Code != 200 || w.Body.String() != c.want {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

func writeBenchFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}
