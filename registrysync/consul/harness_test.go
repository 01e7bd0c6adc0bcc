package consul

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// stand is registry-adapter in single-protocol mode, serving only the
// Consul API (one agent that is also the server) over an embedded store
// (adaptertest's harness), behind a door on loopback that keeps its
// address across restarts. It stands in for a Consul agent, which cannot
// be fetched here; the connector talks to it through consul/api exactly
// as it would to the real one. Its reaper runs every 200ms and honours a
// DeregisterCriticalServiceAfter of 1s, so copies nobody keeps passing
// are gone within seconds.
type stand struct {
	t    *testing.T
	opts consulfe.Options
	door *connectortest.Door
	addr string // the door's

	mu     sync.Mutex
	server *adaptertest.Server
}

// The copies' check in these tests: a 1s TTL, reaped 1s after it lapsed.
const (
	ttl             = time.Second
	deregisterAfter = time.Second
	within          = 15 * time.Second
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startStand(t *testing.T, opts consulfe.Options) *stand {
	t.Helper()
	s := &stand{t: t, opts: opts}
	s.door = connectortest.NewDoor(t, s.serve().URL)
	s.addr = s.door.Addr
	return s
}

func (s *stand) serve() *adaptertest.Server {
	s.t.Helper()
	store := adaptertest.Store(s.t)
	opts := s.opts
	opts.Logger = quiet()
	opts.NodeName = "node-1"
	opts.CheckReapInterval = 200 * time.Millisecond
	opts.MinDeregisterAfter = time.Second
	srv := consulfe.New(store, opts)
	server := adaptertest.Start(s.t, store, adaptertest.Frontend{
		Handler: srv.Handler(), Run: []func(context.Context) error{srv.Run},
	})
	poll.UntilNil(s.t, "the Consul front-end serving", poll.GetOK(server.URL+"/v1/agent/services"))
	s.mu.Lock()
	s.server = server
	s.mu.Unlock()
	return server
}

// close stops the agent; the door then cuts every connection.
func (s *stand) close() {
	s.mu.Lock()
	server := s.server
	s.mu.Unlock()
	server.Stop()
}

// restartEmpty stops the agent and starts it again over an empty store:
// an agent that lost its state.
func (s *stand) restartEmpty() {
	s.t.Helper()
	s.close()
	s.startAgain()
}

// startAgain serves again, over an empty store, behind the door of a
// stand that was closed.
func (s *stand) startAgain() {
	s.t.Helper()
	s.door.Point(s.t, s.serve().URL)
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
	store := s.server.Store
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

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
