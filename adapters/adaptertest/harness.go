package adaptertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// StopTimeout bounds how long a front-end's servers and loops may take to
// return once their context ended.
const StopTimeout = 10 * time.Second

// Store opens an embedded store in a new temporary directory, quiet and
// with expiry off. Each change adjusts the options first, in order: expiry
// on, or a directory of the test's own to open again after a restart. The
// store is closed when the test ends.
func Store(tb testing.TB, changes ...func(*embedded.Options)) *embedded.Store {
	tb.Helper()
	o := embedded.Options{Dir: tb.TempDir(), Expiry: embedded.ExpiryOptions{Disabled: true}, Logger: slog.New(slog.DiscardHandler)}
	for _, change := range changes {
		change(&o)
	}
	st, err := embedded.Open(o)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return st
}

// Frontend is a front-end as the harness runs it.
type Frontend struct {
	// Handler is the HTTP API, served by an httptest server on loopback.
	Handler http.Handler
	// Serve, set instead of Handler, serves the HTTP API on the loopback
	// listener it is given until ctx ends, as the front-end serves it in
	// production (its own http.Server, limits and drain).
	Serve func(ctx context.Context, ln net.Listener) error
	// Run are the loops the front-end needs beside its listener, such as
	// a view that follows the store. Each runs until the test ends and
	// must then return nil.
	Run []func(ctx context.Context) error
	// Ready, when set, holds once the front-end answers as it will in
	// production; Start returns only then.
	Ready func() bool
	// Close, when set, releases what the front-end holds; it is called
	// after its servers and loops returned, before the store closes.
	Close func() error
}

// Server is a front-end running for one test.
type Server struct {
	// Store is what the front-end serves; Stop closes it.
	Store registry.Store
	// Addr is the HTTP API's address, "127.0.0.1:port".
	Addr string
	// URL is the HTTP API's base, "http://127.0.0.1:port".
	URL string

	tb   testing.TB
	once sync.Once
	// stops end the front-end's parts, last started first.
	stops []func() error
}

// Start runs fe over store until the test ends or Stop is called, and
// returns once it is ready. Stopping ends the HTTP API first (its open
// connections cut, so that long polls end), then the loops, then closes
// the front-end and the store; an error or a part that does not stop
// within StopTimeout fails the test.
func Start(tb testing.TB, store registry.Store, fe Frontend) *Server {
	tb.Helper()
	s := &Server{Store: store, tb: tb}
	tb.Cleanup(s.Stop)
	s.stops = append(s.stops, store.Close)
	if fe.Close != nil {
		s.stops = append(s.stops, fe.Close)
	}
	for i, run := range fe.Run {
		s.stops = append(s.stops, start(fmt.Sprintf("loop %d", i), run))
	}
	if fe.Serve != nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("listen: %v", err)
		}
		s.Addr = ln.Addr().String()
		s.stops = append(s.stops, start("serve", func(ctx context.Context) error { return fe.Serve(ctx, ln) }))
	} else {
		hs := httptest.NewServer(fe.Handler)
		s.Addr = hs.Listener.Addr().String()
		s.stops = append(s.stops, func() error {
			hs.CloseClientConnections()
			hs.Close()
			return nil
		})
	}
	s.URL = "http://" + s.Addr
	if fe.Ready != nil {
		poll.Until(tb, "the front-end ready", fe.Ready)
	}
	return s
}

// Stop stops the front-end and closes its store as the end of the test
// would, so that a test can restart over the same directory or see a
// replica go. Calls after the first do nothing.
func (s *Server) Stop() {
	s.once.Do(func() {
		for _, stop := range slices.Backward(s.stops) {
			if err := stop(); err != nil {
				s.tb.Errorf("stop the front-end: %v", err)
			}
		}
	})
}

// Go runs fn, a server or loop a test adds beside a front-end (a second
// listener), until the test ends, and fails the test if fn then returns
// an error or does not return within StopTimeout. stop does the same at
// once and returns that error instead; it returns the same each time.
func Go(tb testing.TB, what string, fn func(ctx context.Context) error) (stop func() error) {
	stop = sync.OnceValue(start(what, fn))
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("%v", err)
		}
	})
	return stop
}

// start runs fn in a goroutine; the function it returns cancels fn's
// context and waits for fn's error, at most StopTimeout.
func start(what string, fn func(ctx context.Context) error) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			return nil
		case <-time.After(StopTimeout):
			return fmt.Errorf("%s did not stop within %v", what, StopTimeout)
		}
	}
}

// Do sends a request to the front-end's HTTP API, path and query after
// its URL, and returns the answer's status, headers and body as the
// front-end sent them: the client asks for no compression and unpacks
// none. No answer within 20 s fails the test.
func (s *Server) Do(tb testing.TB, method, path string, body io.Reader, header map[string]string) (int, http.Header, []byte) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		tb.Fatalf("request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, b
}
