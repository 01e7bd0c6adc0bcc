package consul

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// testEnv is an adapter on a 127.0.0.1 listener over a fresh embedded
// store, with a consul/api client pointed at it.
type testEnv struct {
	t      testing.TB
	store  registry.Store
	srv    *Server
	http   *httptest.Server
	client *api.Client
	url    string
	close  func()
}

type envOption func(*Options)

func newEnv(t testing.TB, mods ...envOption) *testEnv {
	t.Helper()
	return newEnvAt(t, t.TempDir(), mods...)
}

func newEnvAt(t testing.TB, dir string, mods ...envOption) *testEnv {
	t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: dir, Expiry: embedded.ExpiryOptions{Disabled: true},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return newEnvOver(t, st, mods...)
}

// newEnvOver runs the adapter over any store; the environment closes it.
func newEnvOver(t testing.TB, st registry.Store, mods ...envOption) *testEnv {
	t.Helper()
	o := Options{NodeName: "node-1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mods {
		m(&o)
	}
	srv := New(st, o)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	cfg := api.DefaultConfig()
	cfg.Address = ln.Addr().String()
	cfg.Token = o.ACLToken
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("consul client: %v", err)
	}
	env := &testEnv{t: t, store: st, srv: srv, http: hs, client: client, url: hs.URL}
	var once sync.Once
	env.close = func() {
		once.Do(func() {
			hs.CloseClientConnections()
			hs.Close()
			cancel()
			select {
			case err := <-runDone:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not stop")
			}
			st.Close()
		})
	}
	t.Cleanup(env.close)
	waitFor(t, 5*time.Second, "adapter running", func() bool { return srv.running.Load() })
	return env
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends a raw request and returns status, headers and body.
func (e *testEnv) do(method, path string, body io.Reader, hdr map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatalf("request: %v", err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, b
}

// instances lists the store's instances of a service.
func (e *testEnv) instances(service string) []*registry.Instance {
	e.t.Helper()
	insts, _, err := e.store.List(context.Background(), registry.Filter{Service: service})
	if err != nil {
		e.t.Fatalf("list: %v", err)
	}
	return insts
}

// benchEnv is the test environment used by benchmarks.
type benchEnv = testEnv

func newBenchEnv(b *testing.B) *benchEnv { return newEnv(b) }
