// Command mockbench is the mock server benchmark's toolbox, used by
// scripts/bench-mockserver.sh:
//
//	mockbench stubs -n 100 -dir DIR          write DIR/mappings/*.json: n stubs, a third each exact paths, path regexes and JSON-path body matchers
//	mockbench bare  -n 100 -listen ADDR      a bare net/http handler answering the same requests with the same bodies
//
// Stub i answers a 1 KiB JSON body of its own. Kind i%3: 0 is GET
// /items/i (urlPath), 1 is GET /regex/i/<hex> (urlPathPattern), 2 is POST
// /orders whose JSON body holds an item with sku "sku-i"
// (matchesJsonPath). The load generator is tools/sidecarbench's.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: mockbench stubs|bare [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "stubs":
		err = runStubs(os.Args[2:])
	case "bare":
		err = runBare(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mockbench:", err)
		os.Exit(1)
	}
}

// body is stub i's answer: 1 KiB of JSON.
func body(i int) string {
	head := fmt.Sprintf(`{"stub":%d,"pad":"`, i)
	return head + strings.Repeat("x", 1024-len(head)-2) + `"}`
}

// request is stub i's request pattern, in WireMock's form.
func request(i int) map[string]any {
	switch i % 3 {
	case 0:
		return map[string]any{"method": "GET", "urlPath": fmt.Sprintf("/items/%d", i)}
	case 1:
		return map[string]any{"method": "GET", "urlPathPattern": fmt.Sprintf("/regex/%d/[0-9a-f]+", i)}
	}
	return map[string]any{"method": "POST", "urlPath": "/orders",
		"bodyPatterns": []any{map[string]any{"matchesJsonPath": fmt.Sprintf("$.items[?(@.sku == 'sku-%d')]", i)}}}
}

func runStubs(args []string) error {
	fs := flag.NewFlagSet("stubs", flag.ContinueOnError)
	n := fs.Int("n", 100, "stubs")
	dir := fs.String("dir", "", "stub root to write (its mappings/ folder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("-dir is required")
	}
	mappings := filepath.Join(*dir, "mappings")
	if err := os.MkdirAll(mappings, 0o755); err != nil {
		return err
	}
	// A hundred stubs to a file: 10,000 stubs are 100 files, not 10,000.
	for first := 0; first < *n; first += 100 {
		var list []any
		for i := first; i < min(first+100, *n); i++ {
			list = append(list, map[string]any{
				"id":      fmt.Sprintf("00000000-0000-0000-0000-%012d", i),
				"request": request(i),
				"response": map[string]any{"status": 200, "body": body(i),
					"headers": map[string]string{"Content-Type": "application/json"}},
			})
		}
		data, err := json.Marshal(map[string]any{"mappings": list})
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(mappings, fmt.Sprintf("stubs-%06d.json", first)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runBare answers what the stubs answer, written by hand: a map lookup
// for the paths and one JSON decode for the orders.
func runBare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	n := fs.Int("n", 100, "stubs to answer as")
	listen := fs.String("listen", "127.0.0.1:18090", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bodies := make([][]byte, *n)
	for i := range bodies {
		bodies[i] = []byte(body(i))
	}
	answer := func(w http.ResponseWriter, i int, kind int) {
		if i < 0 || i >= *n || i%3 != kind {
			http.NotFound(w, nil)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(bodies[i]) // the client's business if it went away
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{i}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		if err != nil {
			i = -1
		}
		answer(w, i, 0)
	})
	mux.HandleFunc("GET /regex/{i}/{hex}", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.PathValue("i"))
		if err != nil {
			i = -1
		}
		answer(w, i, 1)
	})
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var order struct {
			Items []struct {
				SKU string `json:"sku"`
			} `json:"items"`
		}
		i := -1
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&order); err == nil {
			for _, it := range order.Items {
				if n, err := strconv.Atoi(strings.TrimPrefix(it.SKU, "sku-")); err == nil {
					i = n
				}
			}
		}
		answer(w, i, 2)
	})
	fmt.Fprintln(os.Stderr, "bare handler on", *listen)
	return http.ListenAndServe(*listen, mux)
}
