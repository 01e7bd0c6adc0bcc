package httpx

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/serve/servetest"
)

// startServer serves h on a loopback listener until the test ends.
func startServer(t *testing.T, h http.Handler, opts ServerOptions) (*Server, string) {
	t.Helper()
	opts.NetHTTP = servetest.NetHTTP() // the differential check (runtime.http)
	srv := NewServer(h, opts)
	return srv, servetest.Run(t, srv)
}

// The framing rules follow net/http's: a declared or computed length, or
// chunks, or (HTTP/1.0) the end of the connection.
func TestServerFraming(t *testing.T) {
	big := strings.Repeat("b", preBufferSize+1)
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		case "/small":
			io.WriteString(w, "small")
		case "/big":
			io.WriteString(w, big)
		case "/trailers":
			io.WriteString(w, "body")
			w.Header().Set(http.TrailerPrefix+"X-Sum", "42")
		case "/nocontent":
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(http.StatusNoContent)
		case "/notmodified":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotModified)
		case "/empty":
		}
	}), ServerOptions{})
	tests := []struct {
		name, method, path, proto string
		wantBody                  string
		wantLength                int64
		wantChunked, wantClose    bool
		check                     func(t *testing.T, resp *http.Response)
		// notNetHTTP says why net/http's server differs, when it does.
		notNetHTTP string
	}{
		{name: "declared length", path: "/declared", wantBody: "hello", wantLength: 5},
		{name: "length computed for a small body", path: "/small", wantBody: "small", wantLength: 5},
		{name: "empty body gets length 0", path: "/empty", wantLength: 0},
		{name: "a big body is chunked", path: "/big", wantBody: big, wantLength: -1, wantChunked: true},
		{name: "trailers force chunks", path: "/trailers", wantBody: "body", wantLength: -1, wantChunked: true,
			check: func(t *testing.T, resp *http.Response) {
				if resp.Trailer.Get("X-Sum") != "42" {
					t.Errorf("trailer %v", resp.Trailer)
				}
			},
			notNetHTTP: "net/http takes the header as it is at the first write: a small body gets a length, and trailers set after it are dropped"},
		{name: "HEAD keeps the length, sends no body", method: "HEAD", path: "/declared", wantLength: 5},
		{name: "204 drops the length", path: "/nocontent", wantLength: 0,
			check: func(t *testing.T, resp *http.Response) {
				if resp.Header.Get("Content-Length") != "" {
					t.Errorf("204 with Content-Length %q", resp.Header.Get("Content-Length"))
				}
			}},
		{name: "304 drops the content type", path: "/notmodified", wantLength: 0,
			check: func(t *testing.T, resp *http.Response) {
				if resp.Header.Get("Content-Type") != "" {
					t.Error("304 with a Content-Type")
				}
			}},
		{name: "HTTP/1.0 without a length ends with the connection", path: "/big", proto: "HTTP/1.0", wantBody: big, wantLength: -1, wantClose: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skipOnNetHTTP(t, tt.notNetHTTP)
			method, proto := tt.method, tt.proto
			if method == "" {
				method = "GET"
			}
			if proto == "" {
				proto = "HTTP/1.1"
			}
			rc := servetest.DialRaw(t, addr)
			rc.Send(method + " " + tt.path + " " + proto + "\r\nHost: x\r\n\r\n")
			resp, body := rc.Read(method)
			if body != tt.wantBody || resp.ContentLength != tt.wantLength {
				t.Errorf("body %d bytes, length %d; want %d, %d", len(body), resp.ContentLength, len(tt.wantBody), tt.wantLength)
			}
			if chunked := len(resp.TransferEncoding) > 0; chunked != tt.wantChunked {
				t.Errorf("chunked %v, want %v", chunked, tt.wantChunked)
			}
			if resp.Header.Get("Date") == "" {
				t.Error("no Date")
			}
			if tt.check != nil {
				tt.check(t, resp)
			}
			wait := 100 * time.Millisecond // enough to see a close that was coming
			if tt.wantClose {
				wait = 5 * time.Second
			}
			if got := rc.ClosedWithin(wait); got != tt.wantClose {
				t.Errorf("connection closed %v, want %v", got, tt.wantClose)
			}
		})
	}
}

// Requests on one connection, pipelined or not, are answered in order.
func TestServerKeepAliveAndPipelining(t *testing.T) {
	var conns atomic.Int32
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(b))
	}), ServerOptions{})
	rc := servetest.DialRaw(t, addr)
	rc.Send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
		"GET /b HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n")
	for _, want := range []string{"POST /a abc", "GET /b ", "POST /c def"} {
		if _, body := rc.Read("GET"); body != want {
			t.Errorf("got %q, want %q", body, want)
		}
	}
	// A plain client reuses its connection.
	conns.Store(0)
	tr := &http.Transport{DialContext: func(ctx context.Context, n, a string) (net.Conn, error) {
		conns.Add(1)
		return (&net.Dialer{}).DialContext(ctx, n, a)
	}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for i := range 5 {
		resp, err := hc.Post("http://"+addr+"/p", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "POST /p x" {
			t.Fatalf("request %d: %q", i, b)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 5 requests, want 1", n)
	}
}

// Bad requests get net/http's answers and the connection closes.
func TestServerRefusals(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "served")
	}), ServerOptions{MaxHeaderBytes: 1024})
	tests := []struct {
		name, req string
		want      int
		// notNetHTTP says why net/http's server differs, when it does.
		notNetHTTP string
	}{
		{"head too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8000) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge, ""},
		{"no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest, ""},
		{"malformed request line", "GET\r\n\r\n", http.StatusBadRequest,
			"with h2c on, net/http waits for 14 bytes (\"PRI * HTTP/2.0\") before it parses anything: a shorter request gets no answer until the header timeout closes the connection"},
		{"invalid header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", http.StatusBadRequest, ""},
		{"unknown Expect", "POST / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", http.StatusExpectationFailed, ""},
		{"HTTP/2 request line without the preface", "PRI / HTTP/2.0\r\nHost: x\r\n\r\n", http.StatusHTTPVersionNotSupported, ""},
		{"unsupported transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skipOnNetHTTP(t, tt.notNetHTTP)
			rc := servetest.DialRaw(t, addr)
			rc.Send(tt.req)
			resp, _ := rc.Read("GET")
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if !rc.Closed() {
				t.Error("connection kept after a refusal")
			}
		})
	}
}

// Expect: 100-continue gets its interim answer when the handler reads.
func TestServerContinue(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, string(b))
	}), ServerOptions{})
	rc := servetest.DialRaw(t, addr)
	rc.Send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	line, err := rc.Br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("first line %q, %v; want 100 Continue", line, err)
	}
	if l, _ := rc.Br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("100 Continue not ended: %q", l)
	}
	rc.Send("data")
	if resp, body := rc.Read("POST"); resp.StatusCode != 200 || body != "data" {
		t.Errorf("final answer %d %q", resp.StatusCode, body)
	}
}

// A body the handler did not read is skipped when small (the connection
// stays) and ends the connection when large.
func TestServerUnreadBody(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), ServerOptions{})
	rc := servetest.DialRaw(t, addr)
	rc.Send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
	rc.Send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	for range 2 {
		if resp, body := rc.Read("GET"); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	big := servetest.DialRaw(t, addr)
	go func() { // the server may stop reading: write from the side
		io.WriteString(big.C, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"+strings.Repeat("z", 1000000))
	}()
	resp, _ := big.Read("POST")
	if !resp.Close {
		t.Error("a large unread body did not close the connection")
	}
}

// skipOnNetHTTP skips a test that checks where the loop and net/http's
// server differ (why), when the tests run over net/http's.
func skipOnNetHTTP(t *testing.T, why string) {
	t.Helper()
	if why != "" && servetest.NetHTTP() {
		t.Skip("net/http's server differs: " + why)
	}
}

// watched reports whether some connection of srv reads in the background
// (and, with byteIn, already got a byte of the next request). net/http's
// server watches every request from its start.
func watched(srv *Server, byteIn bool) bool {
	if srv.net != nil {
		return true
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns {
		if c.cr == nil {
			continue
		}
		c.cr.mu.Lock()
		ok := c.cr.inRead && !byteIn || byteIn && c.cr.hasByte
		c.cr.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// A client that leaves cancels its request's context once the request has
// run for a while (here: at once); a pipelined request behind a slow one
// does not cancel it.
func TestServerClientGoneCancels(t *testing.T) {
	canceled := make(chan struct{}, 1)
	started, release := make(chan struct{}, 1), make(chan struct{})
	srv, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/wait":
			started <- struct{}{}
			select {
			case <-r.Context().Done():
				canceled <- struct{}{}
			case <-time.After(10 * time.Second):
			}
		case "/slow":
			started <- struct{}{}
			select {
			case <-r.Context().Done():
				t.Error("a pipelined request cancelled the one before it")
			case <-release:
			}
			io.WriteString(w, "slow")
		default:
			io.WriteString(w, "next")
		}
	}), ServerOptions{watchAfter: time.Nanosecond})

	rc := servetest.DialRaw(t, addr)
	rc.Send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	poll.Until(t, "the connection is watched", func() bool { return watched(srv, false) })
	rc.C.Close()
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the request was not cancelled after its client left")
	}

	p := servetest.DialRaw(t, addr)
	p.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	p.Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	poll.Until(t, "the watch got the next request's first byte", func() bool { return watched(srv, true) })
	close(release)
	for _, want := range []string{"slow", "next"} {
		if _, body := p.Read("GET"); body != want {
			t.Errorf("got %q, want %q", body, want)
		}
	}
}

// Flushing sends what was written at once: a stream is not held back.
func TestServerFlushStreams(t *testing.T) {
	next := make(chan struct{})
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		<-next
		io.WriteString(w, "second")
	}), ServerOptions{})
	rc := servetest.DialRaw(t, addr)
	rc.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(rc.Br, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first;" {
		t.Fatalf("first part %q, %v", buf, err)
	}
	close(next)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second" {
		t.Errorf("rest %q", rest)
	}
}

// A handler that aborts leaves the client with an incomplete response.
func TestServerAbortHandler(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "partial")
		panic(http.ErrAbortHandler)
	}), ServerOptions{})
	rc := servetest.DialRaw(t, addr)
	rc.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(rc.Br, nil)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
	}
	if err == nil {
		t.Fatal("an aborted response read as complete")
	}
}

// HTTP/2 with prior knowledge (h2c) is served by net/http behind the same listener.
func TestServerH2C(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}), ServerOptions{})
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: p}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "HTTP/2.0" {
		t.Errorf("served as %q, want HTTP/2.0", b)
	}
}

// Idle connections close after IdleTimeout; a request head that never
// ends closes after ReadHeaderTimeout.
func TestServerTimeouts(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), ServerOptions{IdleTimeout: 100 * time.Millisecond, ReadHeaderTimeout: 100 * time.Millisecond})
	idle := servetest.DialRaw(t, addr)
	idle.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.Read("GET")
	if !idle.Closed() {
		t.Error("idle connection kept past IdleTimeout")
	}
	slow := servetest.DialRaw(t, addr)
	slow.Send("GET / HTTP/1.1\r\nHost: x\r\n")
	if !slow.Closed() {
		t.Error("unfinished head kept past ReadHeaderTimeout")
	}
}

// A wait for the next request that keeps an earlier wait's deadline,
// which ends sooner, still lasts the full IdleTimeout.
func TestServerIdleTimeoutKeptDeadline(t *testing.T) {
	const idle = 2 * time.Second
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), ServerOptions{IdleTimeout: idle})
	c := servetest.DialRaw(t, addr)
	c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.Read("GET")
	time.Sleep(idle / 5) // the next wait keeps this one's deadline, idle/5 short
	c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.Read("GET")
	if c.ClosedWithin(idle * 9 / 10) {
		t.Fatal("idle connection closed before IdleTimeout")
	}
	_ = c.C.SetReadDeadline(time.Now().Add(10 * time.Second))
	c.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := c.Read("GET"); body != "ok" {
		t.Errorf("body %q, want ok", body)
	}
	if !c.Closed() {
		t.Error("idle connection kept past IdleTimeout")
	}
}

// Shutdown closes idle connections at once, lets a request in flight
// finish (its connection then closes), and Serve returns ErrServerClosed.
func TestServerShutdown(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		io.WriteString(w, "done")
	}), ServerOptions{})
	idle := servetest.DialRaw(t, addr)
	idle.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.Read("GET")
	busy := servetest.DialRaw(t, addr)
	busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	if !idle.Closed() {
		t.Error("idle connection not closed by Shutdown")
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	resp, body := busy.Read("GET")
	if body != "done" || !resp.Close {
		t.Errorf("in-flight answer %q, close %v; want done and Connection: close", body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

// TestServerWatchRacingRequestEnd ends requests just as their watch comes
// due, many times over one connection: a watch must never start after its
// request ended (its background read would collide with the next request's).
func TestServerWatchRacingRequestEnd(t *testing.T) {
	_, addr := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(rand.IntN(40)) * time.Microsecond) // about when the watch comes due
		io.WriteString(w, "ok")
	}), ServerOptions{watchAfter: 20 * time.Microsecond})
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 1000 {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Fatalf("request %d: body %q", i, body)
		}
	}
}

// One header limit, MaxHeaderBytes, counted as HTTP/2 counts a header
// list (name + value + 32 per field), so it bounds the number of fields
// too; 431 above it. Before, HTTP/1.1 heads of up to 68 KiB passed, and
// nearly 8,000 fields.
func TestServerHeaderLimit(t *testing.T) {
	served := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "served") })
	_, addr := startServer(t, served, ServerOptions{})
	_, small := startServer(t, served, ServerOptions{MaxHeaderBytes: 2048})
	fields := func(n int) string {
		var b strings.Builder
		for i := range n {
			b.WriteString("X-F" + strconv.Itoa(i) + ": 1\r\n")
		}
		return b.String()
	}
	value := func(n int) string { return "X-Big: " + strings.Repeat("a", n) + "\r\n" }
	tests := []struct {
		name, addr, fields string
		want               int
	}{
		{"a field under the limit", addr, value(60 << 10), http.StatusOK},
		{"a field over the limit", addr, value(64 << 10), http.StatusRequestHeaderFieldsTooLarge},
		{"a head beyond the limit and the request line's room", addr, value(70 << 10), http.StatusRequestHeaderFieldsTooLarge},
		{"1,000 fields", addr, fields(1000), http.StatusOK},
		{"3,000 short fields in 36 KB", addr, fields(3000), http.StatusRequestHeaderFieldsTooLarge},
		{"a small limit, a head within the read buffer", small, fields(100), http.StatusRequestHeaderFieldsTooLarge},
		{"a small limit, a head within it", small, fields(10), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := servetest.DialRaw(t, tt.addr)
			rc.Send("GET / HTTP/1.1\r\nHost: x\r\n" + tt.fields + "\r\n")
			resp, _ := rc.Read("GET")
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}

	// HTTP/2: net/http's server advertises the limit (SETTINGS_MAX_HEADER_LIST_SIZE),
	// which its client keeps to.
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: p}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for _, tt := range []struct {
		size    int
		refused bool
	}{{60 << 10, false}, {65 << 10, true}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", tt.size))
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		switch {
		case tt.refused && (err == nil || !strings.Contains(err.Error(), "larger than peer's advertised limit")):
			t.Errorf("HTTP/2 header of %d bytes: %v; want it refused for the server's advertised limit", tt.size, err)
		case !tt.refused && (err != nil || resp.StatusCode != http.StatusOK):
			t.Errorf("HTTP/2 header of %d bytes: %v; want 200", tt.size, err)
		}
	}
}
