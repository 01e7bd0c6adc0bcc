package nacos_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	adapter "github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/nacos"
)

// sdkDir holds the Nacos client's log and cache files for the whole test
// binary. The client's logger is global: every new client points it at
// its own directory, and a client closed by one test may still log a line
// afterwards, so a per-test directory could be written to while the test's
// cleanup removes it.
var sdkDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "registrysync-nacos-sdk-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sdkDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var quiet = slog.New(slog.DiscardHandler)

// server is registry-adapter's Nacos front-end alone (Nacos-only mode) on
// loopback: the stand-in for a Nacos 2.x server, which cannot be fetched
// here. Like a Nacos server it keeps ephemeral instances in memory only:
// a restart starts from an empty registry, so whatever is there after one
// was registered again by its client. Its gRPC port stays across a
// restart, where clients reconnect; its HTTP port is new each time.
type server struct {
	t        testing.TB
	grpcPort int
	mu       sync.Mutex
	httpAddr string
	store    *embedded.Store
	halt     func()
}

func startServer(t testing.TB) *server {
	t.Helper()
	s := newServer(t)
	s.start()
	return s
}

// newServer reserves the server's gRPC port; start starts it.
func newServer(t testing.TB) *server {
	return &server{t: t, grpcPort: loopback.Port(t), halt: func() {}}
}

func (s *server) start() {
	s.t.Helper()
	store := adaptertest.Store(s.t, func(o *embedded.Options) {
		o.Expiry = embedded.ExpiryOptions{Interval: 50 * time.Millisecond, StartupGrace: -1, SelfPreservationThreshold: -1}
	})
	opts := adapter.Options{Logger: quiet}
	opts.GRPC.DrainTimeout = 2 * time.Second
	opts.HTTP.DrainTimeout = 2 * time.Second
	a, err := adapter.New(store, opts)
	if err != nil {
		s.t.Fatal(err)
	}
	front := adaptertest.Start(s.t, store, adaptertest.Frontend{Serve: a.ServeHTTP, Close: a.Close})
	grpcLn, err := net.Listen("tcp", net.JoinHostPort(loopback.Host, strconv.Itoa(s.grpcPort)))
	if err != nil {
		s.t.Fatal(err)
	}
	stopGRPC := adaptertest.Go(s.t, "the Nacos gRPC server", func(ctx context.Context) error { return a.ServeGRPC(ctx, grpcLn) })
	s.mu.Lock()
	s.httpAddr, s.store = front.Addr, store
	s.halt = func() {
		if err := stopGRPC(); err != nil {
			s.t.Errorf("stop the Nacos gRPC server: %v", err)
		}
		front.Stop()
	}
	s.mu.Unlock()
}

// restart stops the server and starts it again, gRPC on the same port,
// with an empty registry.
func (s *server) restart() {
	s.t.Helper()
	s.halt()
	s.start()
}

func (s *server) addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpAddr
}

// instances lists what the server holds for a service, of every namespace.
func (s *server) instances(service string) []*registry.Instance {
	s.t.Helper()
	s.mu.Lock()
	store := s.store
	s.mu.Unlock()
	insts, _, err := store.List(context.Background(), registry.Filter{Service: service})
	if err != nil {
		s.t.Fatal(err)
	}
	return insts
}

// config is the connector's configuration against s, with short intervals.
func (s *server) config() *nacos.Config {
	c := nacos.NewConfig()
	c.Servers = []string{s.addr()}
	if s.addr() == "" {
		// Not started yet: a port nothing listens on until it is.
		c.Servers = []string{net.JoinHostPort(loopback.Host, strconv.Itoa(loopback.Port(s.t)))}
	}
	c.GRPCPort = s.grpcPort
	c.ListInterval = 200 * time.Millisecond
	c.Timeout = 3 * time.Second
	c.LogDir = filepath.Join(sdkDir, "log")
	c.CacheDir = filepath.Join(sdkDir, "cache")
	c.LogLevel = "error"
	return c
}

// connector builds a connector against s and closes it, removing its
// copies, when the test ends.
func (s *server) connector(t testing.TB, cfg *nacos.Config, owner string) registrysync.Connector {
	t.Helper()
	return s.connectorWith(t, cfg, registrysync.Env{Owner: owner})
}

// connectorWith is connector with more of env: its Metrics, say.
func (s *server) connectorWith(t testing.TB, cfg *nacos.Config, env registrysync.Env) registrysync.Connector {
	t.Helper()
	env.Name, env.Logger = "legacy-nacos", quiet
	c, err := nacos.New(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := c.Close(ctx, true); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// client is a nacos-sdk-go naming client of namespace, as an app or a
// consumer has one; it is closed when the test ends.
func (s *server) client(t testing.TB, namespace string) naming_client.INamingClient {
	t.Helper()
	cfg := s.config()
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: constant.NewClientConfig(
			constant.WithNamespaceId(namespace), constant.WithTimeoutMs(3000),
			constant.WithNotLoadCacheAtStart(true), constant.WithUpdateCacheWhenEmpty(true),
			constant.WithLogDir(cfg.LogDir), constant.WithCacheDir(cfg.CacheDir), constant.WithLogLevel("error"),
		),
		ServerConfigs: []constant.ServerConfig{s.serverConfig()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

func (s *server) serverConfig() constant.ServerConfig {
	_, p, _ := net.SplitHostPort(s.addr())
	port, _ := strconv.ParseUint(p, 10, 16)
	return *constant.NewServerConfig(loopback.Host, port, constant.WithContextPath("/nacos"), constant.WithGrpcPort(uint64(s.grpcPort)))
}

// apps registers instances as apps do, each on its own connection, and
// keeps them until deregistered or the test ends.
type apps struct {
	s       *server
	t       testing.TB
	mu      sync.Mutex
	clients map[*registry.Instance]naming_client.INamingClient
}

func newApps(t testing.TB, s *server) *apps {
	return &apps{s: s, t: t, clients: map[*registry.Instance]naming_client.INamingClient{}}
}

// register registers inst through nacos-sdk-go, and sets inst.ID to the
// id Nacos gives it: the Go client cannot choose one
// (RegisterInstanceParam has no instance id), so the server makes it of
// ip, port, cluster, group and service.
func (a *apps) register(t *testing.T, inst *registry.Instance) {
	t.Helper()
	c := a.s.client(t, inst.Namespace)
	weight := inst.Weight
	if weight == 0 {
		weight = 1
	}
	group, cluster := naming.Group(inst.Group), inst.Cluster
	if cluster == "" {
		cluster = naming.DefaultCluster
	}
	ok, err := c.RegisterInstance(vo.RegisterInstanceParam{
		Ip: inst.Host, Port: uint64(inst.Port), Weight: weight, Enable: !inst.Disabled,
		Healthy: inst.Health != registry.HealthCritical, Metadata: inst.Metadata, ClusterName: cluster,
		ServiceName: inst.Service, GroupName: group, Ephemeral: true,
	})
	if err != nil || !ok {
		t.Fatalf("register %s as an app: ok=%v err=%v", inst.Service, ok, err)
	}
	inst.ID = naming.InstanceID(inst.Host, inst.Port, cluster, group, inst.Service)
	a.mu.Lock()
	a.clients[inst] = c
	a.mu.Unlock()
}

func (a *apps) deregister(t *testing.T, inst *registry.Instance) {
	t.Helper()
	a.mu.Lock()
	c := a.clients[inst]
	delete(a.clients, inst)
	a.mu.Unlock()
	if c == nil {
		t.Fatalf("deregister %s/%s: not registered by this test", inst.Service, inst.ID)
	}
	ok, err := c.DeregisterInstance(vo.DeregisterInstanceParam{
		Ip: inst.Host, Port: uint64(inst.Port), ServiceName: inst.Service, GroupName: naming.Group(inst.Group), Ephemeral: true,
	})
	if err != nil || !ok {
		t.Fatalf("deregister %s as an app: ok=%v err=%v", inst.Service, ok, err)
	}
}

// hosts is what a consumer's subscription to a service shows now.
func hosts(t testing.TB, c naming_client.INamingClient, group, service string) []model.Instance {
	t.Helper()
	list, err := c.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: service, GroupName: group})
	if err != nil {
		t.Fatalf("select %s/%s: %v", group, service, err)
	}
	return list
}

// follow runs c's source until the test ends and returns its updates.
func follow(t testing.TB, c registrysync.Source) <-chan registrysync.Update {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	updates := make(chan registrysync.Update, 64)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, updates) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("source: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("source did not return within 15s of its context ending")
		}
	})
	return updates
}

// next waits for an update that satisfies ok.
func next(t testing.TB, updates <-chan registrysync.Update, within time.Duration, what string, ok func(registrysync.Update) bool) registrysync.Update {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case u := <-updates:
			if ok(u) {
				return u
			}
		case <-deadline:
			t.Fatalf("no update within %v: %s", within, what)
		}
	}
}

// find returns the instance id of service in u, nil if u has none.
func find(u registrysync.Update, service, id string) *registry.Instance {
	for _, g := range u.Groups {
		if g.Key.Service != service {
			continue
		}
		for _, in := range g.Instances {
			if in.ID == id {
				return in
			}
		}
	}
	return nil
}

func bounded(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}
