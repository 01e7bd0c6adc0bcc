package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/app/apptest"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
)

// get returns a GET's status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// An OpenAPI document's operations are answered beside the hand-written
// stubs, under the document's base path; /metrics on the admin listener
// counts the requests by stub, and the unmatched ones.
func TestOpenAPIOperationsAnsweredAndCounted(t *testing.T) {
	addr, admin := loopback.Addr(t), loopback.Addr(t)
	apptest.Serve(t, command, "--stubs", "testdata/stubs", "--openapi", "testdata/openapi/charges.yaml",
		"--listen", addr, "--admin-listen", admin, "--log-level", "error")
	base := "http://" + addr
	poll.UntilNil(t, "mockserver answering", poll.GetOK(base+"/__admin/health"), poll.Within(5*time.Second))

	if code, body := get(t, base+"/api/charges/7"); code != http.StatusOK || strings.Join(strings.Fields(body), "") != `{"amount":1250,"id":7,"state":"captured"}` {
		t.Fatalf("GET /api/charges/7, the example: %d %s", code, body)
	}
	if code, body := get(t, base+"/payments/42"); code != http.StatusOK || body != `{"state":"paid","id":"42"}` {
		t.Fatalf("GET /payments/42, the hand-written stub: %d %s", code, body)
	}
	if code, _ := get(t, base+"/api/charges/seven"); code != http.StatusNotFound {
		t.Fatalf("GET /api/charges/seven (not an integer): %d, want 404", code)
	}
	if code, body := get(t, base+"/__admin/mappings"); code != http.StatusNotFound || !strings.Contains(body, "not_matched") {
		t.Fatalf("GET /__admin/mappings on the stubs' listener, the admin API elsewhere: %d %s; want the stubs' 404", code, body)
	}

	code, metrics := get(t, "http://"+admin+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	for _, want := range []string{`mockserver_requests_total{result="unmatched",stub=""} 2`, `mockserver_journal_dropped_total 0`, `mockserver_stubs 4`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}
	if n := strings.Count(metrics, `result="matched"`); n != 2 {
		t.Errorf("/metrics has %d matched stubs, want 2:\n%s", n, metrics)
	}
}

// A request no stub matches is proxied to --record-from and written under
// --record-to; after the upstream stops, the reload serves the same answer.
func TestRecordedExchangePlayedBackAfterTheUpstreamStops(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"refund":%q,"state":"done"}`, strings.TrimPrefix(r.URL.Path, "/refunds/"))
	}))
	dir := t.TempDir()
	conf := filepath.Join(dir, "mockserver.yaml")
	if err := os.WriteFile(conf, []byte("reloadInterval: 50ms\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := loopback.Addr(t)
	recorded := filepath.Join(dir, "recorded")
	apptest.Serve(t, command, "--config", conf, "--stubs", "testdata/stubs", "--record-from", upstream.URL, "--record-to", recorded,
		"--listen", addr, "--admin-listen=", "--log-level", "error")
	base := "http://" + addr
	poll.UntilNil(t, "mockserver answering", poll.GetOK(base+"/__admin/health"), poll.Within(5*time.Second))

	const want = `{"refund":"r-9","state":"done"}`
	if code, body := get(t, base+"/refunds/r-9"); code != http.StatusOK || body != want {
		t.Fatalf("GET /refunds/r-9 through the recorder: %d %s", code, body)
	}
	upstream.Close()
	poll.UntilNil(t, "the recording served by its stub", func() error {
		code, metrics := get(t, base+"/__admin/metrics")
		if code != http.StatusOK || !strings.Contains(metrics, `mockserver_stubs 3`) {
			return fmt.Errorf("not reloaded yet")
		}
		return nil
	}, poll.Within(5*time.Second))
	if code, body := get(t, base+"/refunds/r-9"); code != http.StatusOK || body != want {
		t.Fatalf("GET /refunds/r-9 played back: %d %s", code, body)
	}
	if code, _ := get(t, base+"/refunds/r-10"); code != http.StatusBadGateway {
		t.Fatalf("GET /refunds/r-10, never recorded, upstream gone: %d, want 502", code)
	}
}

// A changed document is imported again and served.
func TestOpenAPIDocumentReimportedWhenChanged(t *testing.T) {
	dir := t.TempDir()
	spec, conf := filepath.Join(dir, "charges.yaml"), filepath.Join(dir, "mockserver.yaml")
	orig, err := os.ReadFile("testdata/openapi/charges.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(spec, string(orig))
	write(conf, "reloadInterval: 50ms\n")
	addr := loopback.Addr(t)
	apptest.Serve(t, command, "--config", conf, "--stubs", "testdata/stubs", "--openapi", spec, "--listen", addr, "--admin-listen=", "--log-level", "error")
	url := "http://" + addr + "/api/charges/7"
	poll.UntilNil(t, "mockserver answering", poll.GetOK(url), poll.Within(5*time.Second))

	answers := func(want string) func() error {
		return func() error {
			if _, body := get(t, url); !strings.Contains(body, want) {
				return fmt.Errorf("answer %s, want %s in it", body, want)
			}
			return nil
		}
	}
	write(spec, strings.Replace(string(orig), "amount: 1250", "amount: 99", 1))
	poll.UntilNil(t, "the changed example served", answers(`"amount":99`), poll.Within(5*time.Second))
}
