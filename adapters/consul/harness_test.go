package consul

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// testEnv is an adapter on a 127.0.0.1 listener over a fresh embedded
// store, with a consul/api client pointed at it.
type testEnv struct {
	t      testing.TB
	store  registry.Store
	srv    *Server
	client *api.Client
	url    string
	server *adaptertest.Server
}

type envOption func(*Options)

func newEnv(t testing.TB, mods ...envOption) *testEnv {
	t.Helper()
	return newEnvOver(t, adaptertest.Store(t), mods...)
}

// newEnvAt runs the adapter over a store in dir, to restart over it.
func newEnvAt(t testing.TB, dir string, mods ...envOption) *testEnv {
	t.Helper()
	return newEnvOver(t, adaptertest.Store(t, func(o *embedded.Options) { o.Dir = dir }), mods...)
}

// newEnvOver runs the adapter over any store; the environment closes it.
func newEnvOver(t testing.TB, st registry.Store, mods ...envOption) *testEnv {
	t.Helper()
	o := Options{NodeName: "node-1", Logger: slog.New(slog.DiscardHandler)}
	for _, m := range mods {
		m(&o)
	}
	srv := New(st, o)
	server := adaptertest.Start(t, st, adaptertest.Frontend{
		Handler: srv.Handler(), Run: []func(context.Context) error{srv.Run}, Ready: srv.running.Load,
	})
	cfg := api.DefaultConfig()
	cfg.Address = server.Addr
	cfg.Token = o.ACLToken
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("consul client: %v", err)
	}
	return &testEnv{t: t, store: st, srv: srv, client: client, url: server.URL, server: server}
}

// do sends a raw request and returns status, headers and body.
func (e *testEnv) do(method, path string, body io.Reader, hdr map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	return e.server.Do(e.t, method, path, body, hdr)
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
