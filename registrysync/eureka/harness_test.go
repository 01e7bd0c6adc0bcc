package eureka

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hudl/fargo"
	logging "github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

func TestMain(m *testing.M) {
	logging.SetLevel(logging.CRITICAL, "fargo")
	os.Exit(m.Run())
}

// stand is registry-adapter in single-protocol mode, serving only the
// Eureka API over an embedded store with lease expiry (adaptertest's
// harness), behind a door on loopback that keeps its address across
// restarts. It stands in for a Netflix Eureka server, which cannot be
// fetched here; the connector talks to it through fargo exactly as it
// would to the real one.
type stand struct {
	t    *testing.T
	opts eurekafe.Options
	door *connectortest.Door

	mu     sync.Mutex
	server *adaptertest.Server
}

// lease is how long the stand keeps an instance nobody renews in these
// tests (the copies' leaseDuration), and renewal the copies' interval.
const (
	lease   = 2 * time.Second
	renewal = time.Second
	within  = 15 * time.Second
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func startStand(t *testing.T, opts eurekafe.Options) *stand {
	t.Helper()
	s := &stand{t: t, opts: opts}
	server := s.serve()
	s.door = connectortest.NewDoor(t, server.URL)
	return s
}

// serve runs a fresh store and front-end.
func (s *stand) serve() *adaptertest.Server {
	s.t.Helper()
	store := adaptertest.Store(s.t, func(o *embedded.Options) {
		o.Expiry = embedded.ExpiryOptions{Interval: 100 * time.Millisecond, StartupGrace: time.Millisecond, SelfPreservationThreshold: -1}
	})
	opts := s.opts
	opts.Logger = quiet()
	srv, err := eurekafe.New(store, opts)
	if err != nil {
		s.t.Fatalf("eureka front-end: %v", err)
	}
	var server *adaptertest.Server
	server = adaptertest.Start(s.t, store, adaptertest.Frontend{
		Handler: srv.Handler(), Run: []func(context.Context) error{srv.Run},
	})
	poll.UntilNil(s.t, "the Eureka front-end serving the registry", poll.GetOK(server.URL+"/eureka/apps"))
	s.mu.Lock()
	s.server = server
	s.mu.Unlock()
	return server
}

// restartEmpty stops the server and starts it again over an empty store,
// as a Eureka server that restarts without peers comes back knowing
// nothing; the door keeps its address.
func (s *stand) restartEmpty() {
	s.t.Helper()
	s.mu.Lock()
	old := s.server
	s.mu.Unlock()
	old.Stop()
	s.door.Point(s.t, s.serve().URL)
}

func (s *stand) url() string { return s.door.URL + "/eureka" }

// fargo is a client of the stand, as an app would have.
func (s *stand) fargo() *fargo.EurekaConnection {
	c := fargo.NewConn(s.url())
	c.UseJson = true
	return &c
}

// config is the connector's configuration for the stand, with short
// intervals and leases.
func (s *stand) config() *Config {
	cfg := NewConfig()
	cfg.URLs = []string{s.url()}
	cfg.PollInterval = 100 * time.Millisecond
	cfg.RenewalInterval = renewal
	cfg.LeaseDuration = lease
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

// appInstance is inst as a fargo app registers it: a lease far longer
// than any test, so the app needs no renewals.
func appInstance(inst *registry.Instance) *fargo.Instance {
	w := &fargo.Instance{
		InstanceId: inst.ID, HostName: inst.Host, IPAddr: inst.Host,
		App: strings.ToUpper(inst.Service), VipAddress: inst.Service, SecureVipAddress: inst.Service,
		Status: fargo.StatusType(inst.Status), Port: inst.Port, PortEnabled: true,
		SecurePort: 443, DataCenterInfo: fargo.DataCenterInfo{Name: fargo.MyOwn},
		LeaseInfo: fargo.LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 600},
	}
	if w.Status == "" {
		w.Status = fargo.UP
	}
	for k, v := range inst.Metadata {
		w.SetMetadataString(k, v)
	}
	return w
}

func (s *stand) register(t *testing.T, inst *registry.Instance) *fargo.Instance {
	t.Helper()
	w := appInstance(inst)
	if err := s.fargo().ReregisterInstance(w); err != nil {
		t.Fatalf("fargo register %s: %v", inst.ID, err)
	}
	return w
}

// instance reads app/id through fargo; nil when the server answers 404.
func (s *stand) instance(t *testing.T, app, id string) *fargo.Instance {
	t.Helper()
	w, err := s.fargo().GetInstance(app, id)
	if statusIs(err, http.StatusNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("fargo get %s/%s: %v", app, id, err)
	}
	return w
}

// store is the running front-end's store.
func (s *stand) store() registry.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.server.Store
}

// stored reads an instance from the stand's store: nil when absent.
func (s *stand) stored(t *testing.T, service, id string) *registry.Instance {
	t.Helper()
	inst, err := s.store().Get(context.Background(), registry.NewInstanceKey("", "", service, id))
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("store get %s/%s: %v", service, id, err)
	}
	return inst
}
