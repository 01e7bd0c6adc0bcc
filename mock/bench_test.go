package mock

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// BenchmarkServe100Stubs is the engine's cost per request with 100 stubs,
// a third of them regex URL patterns and a third JSONPath body matchers,
// the request answered by the last stub tried (every stub is evaluated,
// as for the journal's also-matched list), without the network:
//
//	go test -run '^$' -bench Serve100Stubs -benchmem ./mock/
func BenchmarkServe100Stubs(b *testing.B) {
	var files strings.Builder
	files.WriteString("mappings:\n")
	for i := range 100 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&files, "  - {request: {method: GET, url: /items/%d}, response: {body: item-%d}}\n", i, i)
		case 1:
			fmt.Fprintf(&files, "  - {request: {method: GET, urlPathPattern: '/things/%d/[a-z]+'}, response: {body: thing-%d}}\n", i, i)
		case 2:
			fmt.Fprintf(&files, "  - {request: {method: POST, urlPath: /orders, bodyPatterns: [{matchesJsonPath: \"$[?(@.kind == 'k%d')]\"}]}, response: {body: order-%d}}\n", i, i)
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
	body := `{"kind": "k2", "amount": 12}`
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/orders", strings.NewReader(body)))
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func writeBenchFile(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}
