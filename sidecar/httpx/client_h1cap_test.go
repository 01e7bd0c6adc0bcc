package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// With a cap on connections per address, requests beyond it wait for a
// connection to come free instead of dialling: the app never sees more
// than the cap at once, and every request is answered. A request that
// waits past its deadline fails with it, and one whose context ends stops
// waiting. An upgraded connection (101) leaves the count. The client's
// own pool and net/http's Transport (NetHTTP) keep the same rule.
func TestH1ConnectionCap(t *testing.T) {
	for _, netHTTP := range []bool{false, true} {
		name := "own pool"
		if netHTTP {
			name = "net/http"
		}
		t.Run(name, func(t *testing.T) { testConnectionCap(t, netHTTP) })
	}
}

func testConnectionCap(t *testing.T, netHTTP bool) {
	const maxConns = 2
	var open, most atomic.Int64
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			entered <- struct{}{}
			<-release
		case "/upgrade":
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "test")
			w.WriteHeader(http.StatusSwitchingProtocols)
			return
		}
		io.WriteString(w, "ok")
	}))
	app.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := open.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	app.Start()
	defer app.Close()
	c := NewClient(ClientOptions{MaxConnsPerHost: maxConns, NetHTTP: netHTTP})
	defer c.CloseIdleConnections()
	get := func(ctx context.Context, path string, deadline time.Time) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, app.URL+path, nil)
		if path == "/upgrade" {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "test")
		}
		return c.RoundTripDeadline(req, deadline)
	}

	// Six slow requests: two reach the app, four wait for their connections.
	const slow = 6
	var wg sync.WaitGroup
	errs := make(chan error, slow)
	for range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := get(context.Background(), "/slow", time.Time{})
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	for range maxConns {
		<-entered
	}
	if _, err := get(context.Background(), "/fast", time.Now().Add(100*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a request beyond the cap, past its deadline: %v; want it to wait and fail with the deadline", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := get(ctx, "/fast", time.Time{})
		waited <- err
	}()
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Errorf("a request beyond the cap, cancelled: %v; want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a request that waited for the cap: %v", err)
		}
	}
	if n := most.Load(); n > maxConns {
		t.Errorf("the app saw %d connections at once; want at most %d", n, maxConns)
	}

	// Upgraded connections leave the count: with both held open, a plain
	// request still gets a connection.
	var upgraded []io.Closer
	for range maxConns {
		resp, err := get(context.Background(), "/upgrade", time.Now().Add(5*time.Second))
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v; want 101", err)
		}
		upgraded = append(upgraded, resp.Body)
	}
	resp, err := get(context.Background(), "/fast", time.Now().Add(5*time.Second))
	if err != nil {
		t.Fatalf("a request with %d upgraded connections open: %v; want an answer (they leave the cap)", maxConns, err)
	}
	resp.Body.Close()
	for _, u := range upgraded {
		u.Close()
	}
}
