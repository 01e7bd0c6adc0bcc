package eureka

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hudl/fargo"
	logging "github.com/op/go-logging"

	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync"
)

func TestMain(m *testing.M) {
	logging.SetLevel(logging.CRITICAL, "fargo")
	os.Exit(m.Run())
}

// stand is registry-adapter in single-protocol mode, serving only the
// Eureka API over an embedded store on a loopback address. It stands in
// for a Netflix Eureka server, which cannot be fetched here; the
// connector talks to it through fargo exactly as it would to the real one.
type stand struct {
	t    *testing.T
	addr string
	opts eurekafe.Options

	// failing makes the server answer every request with 500, as a
	// server that is up but broken does.
	failing atomic.Bool

	mu    sync.Mutex
	store *embedded.Store
	stop  func()
}

// lease is how long the stand keeps an instance nobody renews in these
// tests (the copies' leaseDuration), and renewal the copies' interval.
const (
	lease   = 2 * time.Second
	renewal = time.Second
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startStand(t *testing.T, opts eurekafe.Options) *stand {
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

// serve runs a fresh store and front-end on ln.
func (s *stand) serve(ln net.Listener) {
	s.t.Helper()
	store, err := embedded.Open(embedded.Options{Dir: s.t.TempDir(), Logger: quiet(), Expiry: embedded.ExpiryOptions{
		Interval: 100 * time.Millisecond, StartupGrace: time.Millisecond, SelfPreservationThreshold: -1,
	}})
	if err != nil {
		s.t.Fatalf("open store: %v", err)
	}
	opts := s.opts
	opts.Logger = quiet()
	srv, err := eurekafe.New(store, opts)
	if err != nil {
		s.t.Fatalf("eureka front-end: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	api := srv.Handler()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.failing.Load() {
			http.Error(w, "failing on purpose", http.StatusInternalServerError)
			return
		}
		api.ServeHTTP(w, r)
	})
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() { defer close(served); _ = hs.Serve(ln) }() // ends with Close below
	s.mu.Lock()
	s.store = store
	s.stop = func() {
		hs.Close()
		<-served
		cancel()
		if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
			s.t.Errorf("eureka front-end run: %v", err)
		}
		store.Close()
	}
	s.mu.Unlock()
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

// restartEmpty stops the server and starts it again on the same address
// over an empty store, as a Eureka server that restarts without peers
// comes back knowing nothing.
func (s *stand) restartEmpty() {
	s.t.Helper()
	s.close()
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

func (s *stand) url() string { return "http://" + s.addr + "/eureka" }

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
