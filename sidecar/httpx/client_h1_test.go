package httpx

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
)

func newPool() *h1pool {
	return newH1Pool(&net.Dialer{Timeout: time.Second}, 8, 0, time.Minute, 4096)
}

func get(t *testing.T, p *h1pool, url string, body io.Reader) (*http.Response, string) {
	t.Helper()
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	req, _ := http.NewRequest(method, url, body)
	resp, err := p.roundTrip(req, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, string(b)
}

func TestH1KeepAliveReuseAndStale(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(b))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	p := newPool()
	defer p.closeIdle()
	for i := range 5 {
		if _, b := get(t, p, srv.URL+"/a", strings.NewReader("x")); b != "POST /a x" {
			t.Fatalf("request %d answered %q", i, b)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 sequential requests, want 1 reused", n)
	}
	// The server drops its idle connections; the next request must notice
	// the dead pooled connection and use a new one. dropIdle waits for the
	// FIN to arrive (the pooled connection's peek sees it).
	addr := srv.Listener.Addr().String()
	dropIdle := func() {
		srv.CloseClientConnections()
		poll.Until(t, "the pooled connection to see the close", func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return !p.idle[addr][0].alive()
		})
	}
	dropIdle()
	if _, b := get(t, p, srv.URL+"/b", strings.NewReader("y")); b != "POST /b y" {
		t.Errorf("after the server closed idle connections: %q", b)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	// A GET is not peeked at: sent on the dead connection, it fails
	// before any answer and goes again on a new one.
	dropIdle()
	if _, b := get(t, p, srv.URL+"/c", nil); b != "GET /c " {
		t.Errorf("GET after the server closed idle connections: %q", b)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

// Replayable requests (no body, idempotent method or an idempotency key)
// take a pooled connection without the liveness peek's system call; the
// others are peeked at.
func TestH1PeeksOnlyWhenNotReplayable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	p := newPool()
	defer p.closeIdle()
	pooled := func() *h1conn {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.idle[srv.Listener.Addr().String()][0]
	}
	for range 3 {
		get(t, p, srv.URL, nil)
	}
	if pooled().peeked() {
		t.Error("a GET on a pooled connection peeked at it")
	}
	get(t, p, srv.URL, strings.NewReader("body"))
	if !pooled().peeked() && peekable {
		t.Error("a POST with a body on a pooled connection did not peek at it")
	}
	for _, tc := range []struct {
		method string
		body   io.Reader
		header string
		want   bool
	}{
		{http.MethodGet, nil, "", true}, {http.MethodHead, nil, "", true}, {http.MethodOptions, nil, "", true},
		{http.MethodPost, nil, "", false}, {http.MethodDelete, nil, "", false}, {http.MethodGet, strings.NewReader("x"), "", false},
		{http.MethodPost, nil, "Idempotency-Key", true}, {http.MethodPut, nil, "X-Idempotency-Key", true},
		{http.MethodPost, strings.NewReader("x"), "Idempotency-Key", false},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL, tc.body)
		if tc.header != "" {
			req.Header.Set(tc.header, "k1")
		}
		if got := replayable(req); got != tc.want {
			t.Errorf("replayable(%s, body %v, %q) = %v, want %v", tc.method, tc.body != nil, tc.header, got, tc.want)
		}
	}
}

func TestH1ChunkedTrailersHeadAndInformational(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part1-")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part2")
			w.Header().Set("X-Sum", "42")
		case "/early":
			w.Header().Set("Link", "</x>")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "final")
		default:
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		}
	}))
	defer srv.Close()
	p := newPool()
	defer p.closeIdle()
	resp, b := get(t, p, srv.URL+"/chunked", nil)
	if b != "part1-part2" || resp.Trailer.Get("X-Sum") != "42" {
		t.Errorf("chunked: %q trailer %v", b, resp.Trailer)
	}
	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/", nil)
	hr, err := p.roundTrip(req, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(hr.Body)
	hr.Body.Close()
	if len(hb) != 0 || hr.ContentLength != 5 {
		t.Errorf("HEAD: body %q length %d", hb, hr.ContentLength)
	}
	// The connection is still in step after HEAD.
	if _, b := get(t, p, srv.URL+"/early", nil); b != "final" {
		t.Errorf("after 103: %q", b)
	}
}

// A body not read to the end closes the connection instead of pooling it.
func TestH1UnreadBodyNotPooled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("z", 100000))
	}))
	defer srv.Close()
	p := newPool()
	defer p.closeIdle()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := p.roundTrip(req, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	resp.Body.Read(buf)
	resp.Body.Close()
	p.mu.Lock()
	n := len(p.idle[srv.Listener.Addr().String()])
	p.mu.Unlock()
	if n != 0 {
		t.Errorf("%d idle connections after an abandoned body, want 0", n)
	}
}

// Cancelling the request unblocks a read that waits for the upstream.
func TestH1Cancel(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		bufio.NewReader(c).ReadString('\n') // read the request, never answer
		time.Sleep(5 * time.Second)
		c.Close()
	}()
	p := newPool()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	start := time.Now()
	if _, err := p.roundTrip(req, time.Time{}); err == nil {
		t.Fatal("no error from an upstream that never answers")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("cancel took %v", time.Since(start))
	}
}

// The deadline bounds the response body too, and a connection that hit it
// is not pooled; a deadline left on an idle connection does not harm it.
func TestH1DeadlineCoversBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stall" {
			io.WriteString(w, "ok")
			return
		}
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "part")
		w.(http.Flusher).Flush()
		select { // the rest never comes before the deadline
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	p := newPool()
	defer p.closeIdle()
	idle := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.idle[srv.Listener.Addr().String()])
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/stall", nil)
	resp, err := p.roundTrip(req, time.Now().Add(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Fatal("body read past the deadline")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("body read ended %v after it started, want at the deadline", d)
	}
	if n := idle(); n != 0 {
		t.Errorf("%d idle connections after a deadline, want 0", n)
	}

	old := time.Now().Add(20 * time.Millisecond)
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/ok", nil)
	resp, err = p.roundTrip(req, old)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := idle(); n != 1 {
		t.Fatalf("%d idle connections, want the one just used", n)
	}
	for time.Now().Before(old.Add(10 * time.Millisecond)) { // until the old deadline passed
		time.Sleep(5 * time.Millisecond)
	}
	if _, b := get(t, p, srv.URL+"/again", nil); b != "ok" {
		t.Errorf("after an expired deadline on the idle connection: %q", b)
	}
	if n := idle(); n != 1 {
		t.Errorf("%d idle connections, want the pooled one reused", n)
	}
}

// An upstream that closes a reused connection after reading a request,
// without answering, may have acted on it: a bodiless GET goes again on a
// new connection, a bodiless POST does not (the retry policy may decide to
// send it again; the pool never does on its own).
func TestH1UnansweredRequestSentAgainOnlyIfReplayable(t *testing.T) {
	var seen sync.Map // path -> *atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := seen.LoadOrStore(r.Method+" "+r.URL.Path, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		if r.URL.Path == "/drop" {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // no answer
			}
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	count := func(key string) int64 {
		n, ok := seen.Load(key)
		if !ok {
			return 0
		}
		return n.(*atomic.Int64).Load()
	}
	p := newPool()
	defer p.closeIdle()
	for _, tc := range []struct {
		method string
		want   int64
	}{{http.MethodGet, 2}, {http.MethodPost, 1}} {
		get(t, p, srv.URL+"/warm", nil) // a pooled connection to reuse
		req, _ := http.NewRequest(tc.method, srv.URL+"/drop", nil)
		if _, err := p.roundTrip(req, time.Now().Add(5*time.Second)); err == nil {
			t.Fatalf("%s /drop: answered; want an error", tc.method)
		}
		if got := count(tc.method + " /drop"); got != tc.want {
			t.Errorf("%s /drop reached the upstream %d times, want %d", tc.method, got, tc.want)
		}
	}
}

// retryStale: nothing sent is always safe to send again (without a body);
// something sent only when the request is replayable.
func TestRetryStale(t *testing.T) {
	for _, tc := range []struct {
		method string
		body   io.Reader
		err    error
		want   bool
	}{
		{http.MethodPost, nil, errUnsent, true}, {http.MethodPost, nil, errStale, false},
		{http.MethodGet, nil, errStale, true}, {http.MethodGet, nil, errUnsent, true},
		{http.MethodPost, strings.NewReader("x"), errUnsent, false}, {http.MethodGet, nil, io.ErrClosedPipe, false},
	} {
		req, _ := http.NewRequest(tc.method, "http://upstream/", tc.body)
		if got := retryStale(req, tc.err); got != tc.want {
			t.Errorf("retryStale(%s, body %v, %v) = %v, want %v", tc.method, tc.body != nil, tc.err, got, tc.want)
		}
	}
}
