package consul

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync"
)

// stand is registry-adapter in single-protocol mode, serving only the
// Consul API (one agent that is also the server) over an embedded store
// on a loopback address. It stands in for a Consul agent, which cannot
// be fetched here; the connector talks to it through consul/api exactly
// as it would to the real one. Its reaper runs every 200ms and honours a
// DeregisterCriticalServiceAfter of 1s, so copies nobody keeps passing
// are gone within seconds.
type stand struct {
	t    *testing.T
	addr string
	opts consulfe.Options

	mu    sync.Mutex
	store *embedded.Store
	stop  func()
}

// The copies' check in these tests: a 1s TTL, reaped 1s after it lapsed.
const (
	ttl             = time.Second
	deregisterAfter = time.Second
	within          = 15 * time.Second
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startStand(t *testing.T, opts consulfe.Options) *stand {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stand{t: t, addr: ln.Addr().String(), opts: opts}
	s.serve(ln)
	t.Cleanup(s.close)
	return s
}

func (s *stand) serve(ln net.Listener) {
	s.t.Helper()
	store, err := embedded.Open(embedded.Options{Dir: s.t.TempDir(), Logger: quiet(), Expiry: embedded.ExpiryOptions{Disabled: true}})
	if err != nil {
		s.t.Fatalf("open store: %v", err)
	}
	opts := s.opts
	opts.Logger = quiet()
	opts.NodeName = "node-1"
	opts.CheckReapInterval = 200 * time.Millisecond
	opts.MinDeregisterAfter = time.Second
	srv := consulfe.New(store, opts)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { defer close(served); _ = hs.Serve(ln) }() // ends with Close below
	s.mu.Lock()
	s.store = store
	s.stop = func() {
		hs.Close()
		<-served
		cancel()
		if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
			s.t.Errorf("consul front-end run: %v", err)
		}
		store.Close()
	}
	s.mu.Unlock()
	eventually(s.t, within, "the consul front-end serving", func() error {
		_, err := s.client().Agent().Services()
		return err
	})
}

func (s *stand) close() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// restartEmpty stops the agent and starts it again on the same address
// over an empty store: an agent that lost its state.
func (s *stand) restartEmpty() {
	s.t.Helper()
	s.close()
	s.startAgain()
}

// startAgain serves again, over an empty store, on the address of a
// stand that was closed.
func (s *stand) startAgain() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port is free once the old listener is closed
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// client is a consul/api client of the stand, as an app would have.
func (s *stand) client() *api.Client {
	cfg := api.DefaultConfig()
	cfg.Address = s.addr
	c, err := api.NewClient(cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *stand) config() *Config {
	cfg := NewConfig()
	cfg.Address = s.addr
	cfg.Wait = 2 * time.Second
	cfg.Timeout = 5 * time.Second
	cfg.TTL = ttl
	cfg.DeregisterAfter = deregisterAfter
	return cfg
}

func (s *stand) connector(t *testing.T, env registrysync.Env, mod ...func(*Config)) *Connector {
	t.Helper()
	cfg := s.config()
	for _, m := range mod {
		m(cfg)
	}
	if env.Logger == nil {
		env.Logger = quiet()
	}
	c, err := New(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// register puts inst at the agent as an app registers itself with
// consul/api, without checks.
func (s *stand) register(t *testing.T, inst *registry.Instance) {
	t.Helper()
	err := s.client().Agent().ServiceRegister(&api.AgentServiceRegistration{
		ID: inst.ID, Name: inst.Service, Address: inst.Host, Port: inst.Port, Meta: inst.Metadata, Tags: inst.Tags,
	})
	if err != nil {
		t.Fatalf("register %s: %v", inst.ID, err)
	}
}

func (s *stand) deregister(t *testing.T, id string) {
	t.Helper()
	if err := s.client().Agent().ServiceDeregister(id); err != nil {
		t.Fatalf("deregister %s: %v", id, err)
	}
}

// health is /v1/health/service/{name} as consul/api asks it.
func (s *stand) health(t *testing.T, name string, passingOnly bool) []*api.ServiceEntry {
	t.Helper()
	entries, _, err := s.client().Health().Service(name, "", passingOnly, nil)
	if err != nil {
		t.Fatalf("health of %s: %v", name, err)
	}
	return entries
}

// stored reads an instance from the stand's store: nil when absent.
func (s *stand) stored(t *testing.T, service, id string) *registry.Instance {
	t.Helper()
	s.mu.Lock()
	store := s.store
	s.mu.Unlock()
	inst, err := store.Get(context.Background(), registry.NewInstanceKey("", "", service, id))
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("store get %s/%s: %v", service, id, err)
	}
	return inst
}

func entry(entries []*api.ServiceEntry, id string) *api.ServiceEntry {
	for _, e := range entries {
		if e.Service.ID == id {
			return e
		}
	}
	return nil
}

// eventually polls cond every 50ms until it returns nil or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v after %v", what, err, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
