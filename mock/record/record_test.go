package record

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/mock"
	"github.com/meshbridge/meshbridge/mock/mocktest"
)

// upstream is a real service on loopback: a counter in its answers shows
// which call of a repeated request answered.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64, *atomic.Value) {
	t.Helper()
	var calls atomic.Int64
	var sawAuth atomic.Value
	sawAuth.Store("")
	image := bytes.Repeat([]byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}, 8)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pets", func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if a := r.Header.Get("Authorization"); a != "" {
			sawAuth.Store(a)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Call", string(rune('0'+n)))
		_, _ = io.WriteString(w, `[{"id":1,"name":"rex","limit":"`+r.URL.Query().Get("limit")+`"}]`)
	})
	mux.HandleFunc("POST /pets", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Location", "/pets/2")
		w.Header().Set("Set-Cookie", "session=s3cr3t; HttpOnly")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(body)
	})
	mux.HandleFunc("DELETE /pets/1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /image", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(image)
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, strings.Repeat("0123456789abcdef", 1024))
	})
	mux.HandleFunc("GET /gzip", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Error("the upstream was not offered gzip")
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "text/plain")
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, "unzipped")
		_ = zw.Close()
	})
	mux.HandleFunc("GET /old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	up := httptest.NewServer(mux)
	t.Cleanup(up.Close)
	return up, &calls, &sawAuth
}

// engine serves root's stubs (none yet is fine) with rec, if any, for
// unmatched requests.
func engine(t *testing.T, rec http.Handler, root string) string {
	t.Helper()
	return mocktest.Serve(t, mock.Options{Strict: true, Unmatched: rec}, root)
}

type exchange struct {
	method, path, body string
	header             []string
}

type answer struct {
	status int
	body   string
	header http.Header
}

func call(t *testing.T, url string, x exchange) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), x.method, url+x.path, strings.NewReader(x.body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(x.header); i += 2 {
		req.Header.Set(x.header[i], x.header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", x.method, x.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, string(b), resp.Header}
}

// TestRoundTrip records a set of exchanges against a real upstream,
// stops it, and plays them back from the written files through a fresh
// engine: the same statuses, bodies and headers, but Set-Cookie; no
// credential in any file; a repeated request one stub with the first
// answer.
func TestRoundTrip(t *testing.T) {
	up, calls, sawAuth := upstream(t)
	root := t.TempDir()
	rec, err := New(Options{Upstream: up.URL, Dir: root, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	recording := engine(t, rec, root)
	exchanges := []exchange{
		{method: "GET", path: "/pets?limit=2", header: []string{"Authorization", "Bearer tok-123", "Cookie", "sid=abc"}},
		{method: "GET", path: "/pets?limit=3"},
		{method: "POST", path: "/pets", body: `{"name": "rex", "tag": "dog"}`, header: []string{"Content-Type", "application/json"}},
		{method: "POST", path: "/pets", body: `{"name": "tom"}`, header: []string{"Content-Type", "application/json"}},
		{method: "POST", path: "/pets", body: `plain text`},
		{method: "DELETE", path: "/pets/1"},
		{method: "GET", path: "/image"},
		{method: "GET", path: "/big"},
		{method: "GET", path: "/gzip"},
		{method: "GET", path: "/old"},
	}
	recorded := make([]answer, len(exchanges))
	for i, x := range exchanges {
		recorded[i] = call(t, recording, x)
	}
	if sawAuth.Load() != "Bearer tok-123" {
		t.Fatalf("the upstream got Authorization %q: credentials go to the upstream", sawAuth.Load())
	}
	if recorded[2].header.Get("Set-Cookie") == "" {
		t.Error("the live answer lost Set-Cookie")
	}
	// The same request again, while the engine has not reloaded: proxied
	// (the upstream's second answer), not written again.
	if again := call(t, recording, exchanges[0]); again.header.Get("X-Call") != "3" {
		t.Fatalf("the repeat was not proxied: X-Call %q", again.header.Get("X-Call"))
	}
	if calls.Load() != 3 {
		t.Fatalf("upstream calls to GET /pets: %d, want 3", calls.Load())
	}
	mappings, _ := filepath.Glob(filepath.Join(root, "mappings", "*.json"))
	if len(mappings) != len(exchanges) {
		t.Fatalf("%d stub files, want one for each of %d distinct requests", len(mappings), len(exchanges))
	}
	bodies, _ := filepath.Glob(filepath.Join(root, "__files", "*"))
	if len(bodies) != 2 {
		t.Fatalf("body files %v, want the binary and the large body", bodies)
	}
	for _, f := range append(mappings, bodies...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"tok-123", "Authorization", "sid=abc", "s3cr3t", "Set-Cookie"} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q", f, secret)
			}
		}
	}

	up.Close()
	playback := engine(t, nil, root)
	for i, x := range exchanges {
		got, want := call(t, playback, x), recorded[i]
		if got.status != want.status || got.body != want.body {
			t.Errorf("%s %s: playback %d %q, recorded %d %q", x.method, x.path, got.status, shorten(got.body), want.status, shorten(want.body))
		}
		for _, h := range []string{"Content-Type", "Location", "X-Call", "Content-Encoding"} {
			if got.header.Get(h) != want.header.Get(h) {
				t.Errorf("%s %s: playback %s %q, recorded %q", x.method, x.path, h, got.header.Get(h), want.header.Get(h))
			}
		}
		if got.header.Get("Set-Cookie") != "" {
			t.Errorf("%s %s: a replay sets a cookie", x.method, x.path)
		}
	}
	// The JSON body is matched as JSON: another key order is the same.
	if got := call(t, playback, exchange{method: "POST", path: "/pets", body: `{"tag":"dog","name":"rex"}`}); got.status != http.StatusCreated {
		t.Errorf("the same JSON in another order: %d", got.status)
	}
	// A body never recorded is not answered.
	if got := call(t, playback, exchange{method: "POST", path: "/pets", body: `{"name":"new"}`}); got.status != http.StatusNotFound {
		t.Errorf("an unrecorded body: %d, want 404", got.status)
	}
}

// TestUpstreamFailures: an upstream that is gone, or answers too much,
// gets 502 and nothing is written.
func TestUpstreamFailures(t *testing.T) {
	up, _, _ := upstream(t)
	root := t.TempDir()
	rec, err := New(Options{Upstream: up.URL, Dir: root, MaxBodyBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	url := engine(t, rec, root)
	if got := call(t, url, exchange{method: "GET", path: "/big"}); got.status != http.StatusBadGateway || !strings.Contains(got.body, "larger than 1024 bytes") {
		t.Errorf("too large: %d %s", got.status, got.body)
	}
	up.Close()
	if got := call(t, url, exchange{method: "GET", path: "/pets"}); got.status != http.StatusBadGateway || !strings.Contains(got.body, "upstream_failed") {
		t.Errorf("upstream gone: %d %s", got.status, got.body)
	}
	if files, _ := filepath.Glob(filepath.Join(root, "*", "*")); len(files) != 0 {
		t.Errorf("written after failures: %v", files)
	}
}

// TestUpstreamPrefix: the upstream's path is put before the request's.
func TestUpstreamPrefix(t *testing.T) {
	var got string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL.RequestURI() }))
	t.Cleanup(up.Close)
	root := t.TempDir()
	rec, err := New(Options{Upstream: up.URL + "/base/", Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	call(t, engine(t, rec, root), exchange{method: "GET", path: "/a%2Fb/c?x=1&x=2"})
	if got != "/base/a%2Fb/c?x=1&x=2" {
		t.Errorf("upstream got %q", got)
	}
}

func TestBadOptions(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Dir: "x"}, "record: upstream: required"},
		{Options{Upstream: "payments:8080", Dir: "x"}, "record: upstream:"},
		{Options{Upstream: "ftp://payments", Dir: "x"}, "not an http or https URL"},
		{Options{Upstream: "http://payments?x=1", Dir: "x"}, "has a query"},
		{Options{Upstream: "http://payments"}, "record: dir: required"},
	} {
		if _, err := New(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want %q", c.opts, err, c.want)
		}
	}
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// TestServedAfterReload: with the record folder among the engine's
// roots and its reload on (the binary's --record-from/--record-to), a
// request is proxied once and then answered by its new stub, also after
// the upstream is gone.
func TestServedAfterReload(t *testing.T) {
	up, _, _ := upstream(t)
	root := t.TempDir()
	rec, err := New(Options{Upstream: up.URL, Dir: root})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mock.New(mock.Options{Unmatched: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.LoadFiles(root); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Watch(ctx, 20*time.Millisecond) // ends with ctx; a failed reload is the test's failure below
	}()
	t.Cleanup(func() { cancel(); <-done })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	x := exchange{method: "GET", path: "/pets?limit=1"}
	if got := call(t, hs.URL, x); got.header.Get("X-Call") != "1" {
		t.Fatalf("first call: X-Call %q, want the upstream's first answer", got.header.Get("X-Call"))
	}
	// Until the reload, the upstream answers (X-Call 2, 3, ...); after it,
	// the stub with the first answer.
	poll.Until(t, "the recorded stub answers", func() bool { return call(t, hs.URL, x).header.Get("X-Call") == "1" })
	up.Close()
	if got := call(t, hs.URL, x); got.status != http.StatusOK || got.header.Get("X-Call") != "1" {
		t.Fatalf("with the upstream gone: %d X-Call %q", got.status, got.header.Get("X-Call"))
	}
}

// TestRequestBodyLimit: on its own (not behind the engine, which bounds
// bodies itself) the recorder refuses a request body over MaxBodyBytes.
func TestRequestBodyLimit(t *testing.T) {
	up, _, _ := upstream(t)
	root := t.TempDir()
	rec, err := New(Options{Upstream: up.URL, Dir: root, MaxBodyBytes: 8})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(rec)
	t.Cleanup(hs.Close)
	if got := call(t, hs.URL, exchange{method: "POST", path: "/pets", body: "more than eight bytes"}); got.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the limit: %d %s", got.status, got.body)
	}
	if got := call(t, hs.URL, exchange{method: "POST", path: "/pets", body: "small"}); got.status != http.StatusCreated {
		t.Errorf("a body within the limit: %d %s", got.status, got.body)
	}
}
