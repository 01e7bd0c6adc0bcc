package connectortest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// Door is a stable loopback address in front of a registry's HTTP API
// that a test restarts (a front-end started again over an empty store
// listens on a new port) or breaks: a connector configured with the
// door's address keeps it across restarts, as it keeps a registry's.
type Door struct {
	// Addr is "127.0.0.1:port"; URL is "http://" + Addr.
	Addr, URL string

	mu      sync.Mutex
	target  *url.URL
	failing atomic.Bool
}

// NewDoor opens a door to target ("http://127.0.0.1:port"); it closes
// when the test ends.
func NewDoor(t *testing.T, target string) *Door {
	t.Helper()
	d := &Door{}
	d.Point(t, target)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			d.mu.Lock()
			r.SetURL(d.target)
			d.mu.Unlock()
		},
		// A registry that is down answers nothing: the client sees its
		// connection cut, not an answer from the door.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { abort(w) },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.failing.Load() {
			http.Error(w, "failing on purpose", http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	d.Addr = srv.Listener.Addr().String()
	d.URL = "http://" + d.Addr
	return d
}

// Point sends what comes through the door to target from now on.
func (d *Door) Point(t *testing.T, target string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("door: %v", err)
	}
	d.mu.Lock()
	d.target = u
	d.mu.Unlock()
}

// Fail makes the door answer every request with 500 (on) or pass them
// again (off), as a registry that is up but broken answers.
func (d *Door) Fail(on bool) { d.failing.Store(on) }

// abort cuts the client's connection without an answer.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
