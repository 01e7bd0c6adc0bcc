package registrysync_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	nacosfe "github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/consul"
	"github.com/meshbridge/meshbridge/registrysync/eureka"
	"github.com/meshbridge/meshbridge/registrysync/nacos"
	"github.com/meshbridge/meshbridge/registrysync/zookeeper"
)

// Legacy registries for the pair tests. Real Eureka, Consul and Nacos
// servers cannot be fetched here: each stand-in is registry-adapter
// serving that one protocol over its own store (adaptertest's harness),
// which the connectors and the apps reach with their real clients
// (hudl/fargo, hashicorp/consul/api, nacos-sdk-go/v2). ZooKeeper is the
// real server (internal/zookeepertest).

// legacyStore is a legacy stand-in's store, expiring leases as the real
// registry does.
func legacyStore(t *testing.T) *embedded.Store {
	return adaptertest.Store(t, func(o *embedded.Options) {
		o.Expiry = embedded.ExpiryOptions{Interval: 100 * time.Millisecond, StartupGrace: time.Millisecond, SelfPreservationThreshold: -1}
	})
}

// eurekaLegacy starts a Eureka stand-in and returns its registry entry,
// named name, and a fargo connection to it as an app has one.
func eurekaLegacy(t *testing.T, name string) (registrysync.RegistryConfig, *fargo.EurekaConnection) {
	t.Helper()
	store := legacyStore(t)
	fe, err := eurekafe.New(store, eurekafe.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := adaptertest.Start(t, store, adaptertest.Frontend{Handler: fe.Handler(), Run: []func(context.Context) error{fe.Run}})
	cfg := eureka.NewConfig()
	cfg.URLs, cfg.PollInterval, cfg.RenewalInterval, cfg.LeaseDuration = []string{srv.URL + "/eureka"}, 100*time.Millisecond, time.Second, 4*time.Second
	conn := fargo.NewConn(srv.URL + "/eureka")
	conn.UseJson = true
	return registrysync.RegistryConfig{Name: name, Type: "eureka", Settings: cfg}, &conn
}

// consulLegacy starts a Consul stand-in and returns its registry entry,
// named name, and a consul/api client of it.
func consulLegacy(t *testing.T, name string) (registrysync.RegistryConfig, *api.Client) {
	t.Helper()
	store := legacyStore(t)
	fe := consulfe.New(store, consulfe.Options{Logger: quiet(), NodeName: "node-1", CheckReapInterval: 200 * time.Millisecond, MinDeregisterAfter: time.Second})
	srv := adaptertest.Start(t, store, adaptertest.Frontend{Handler: fe.Handler(), Run: []func(context.Context) error{fe.Run}})
	addr := strings.TrimPrefix(srv.URL, "http://")
	cfg := consul.NewConfig()
	cfg.Address, cfg.Wait, cfg.Timeout = addr, 2*time.Second, 5*time.Second
	apiCfg := api.DefaultConfig()
	apiCfg.Address = addr
	client, err := api.NewClient(apiCfg)
	if err != nil {
		t.Fatal(err)
	}
	return registrysync.RegistryConfig{Name: name, Type: "consul", Settings: cfg}, client
}

// nacosStandIn is registry-adapter's Nacos front-end alone (Nacos-only
// mode, HTTP and gRPC) as a legacy Nacos 2.x.
type nacosStandIn struct {
	cfg      *nacos.Config
	httpPort uint64
	grpcPort uint64
}

// nacosLegacy starts a Nacos stand-in and returns it; its registry
// entry is registry(name).
func nacosLegacy(t *testing.T) *nacosStandIn {
	t.Helper()
	store := legacyStore(t)
	opts := nacosfe.Options{Logger: quiet()}
	opts.GRPC.DrainTimeout, opts.HTTP.DrainTimeout = 2*time.Second, 2*time.Second
	a, err := nacosfe.New(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	front := adaptertest.Start(t, store, adaptertest.Frontend{Serve: a.ServeHTTP, Close: a.Close})
	grpcLn, err := net.Listen("tcp", net.JoinHostPort(loopback.Host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	stop := adaptertest.Go(t, "the Nacos gRPC server", func(ctx context.Context) error { return a.ServeGRPC(ctx, grpcLn) })
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("stop the Nacos gRPC server: %v", err)
		}
	})
	_, hp, _ := net.SplitHostPort(front.Addr)
	httpPort, _ := strconv.ParseUint(hp, 10, 16)
	n := &nacosStandIn{httpPort: httpPort, grpcPort: uint64(grpcLn.Addr().(*net.TCPAddr).Port)}
	// The client's log and cache stay in the connector's default
	// directories: nacos-sdk-go's logger is global, and a client closed
	// by one test may still write there after the test's cleanup.
	n.cfg = nacos.NewConfig()
	n.cfg.Servers, n.cfg.GRPCPort = []string{front.Addr}, int(n.grpcPort)
	n.cfg.ListInterval, n.cfg.Timeout, n.cfg.LogLevel = 200*time.Millisecond, 3*time.Second, "error"
	return n
}

func (n *nacosStandIn) registry(name string) registrysync.RegistryConfig {
	return registrysync.RegistryConfig{Name: name, Type: "nacos", Settings: n.cfg}
}

// client is a nacos-sdk-go naming client of the public namespace, as an
// app or a consumer has one; it is closed when the test ends.
func (n *nacosStandIn) client(t *testing.T) naming_client.INamingClient {
	t.Helper()
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: constant.NewClientConfig(constant.WithTimeoutMs(3000),
			constant.WithNotLoadCacheAtStart(true), constant.WithUpdateCacheWhenEmpty(true),
			constant.WithLogDir(n.cfg.LogDir), constant.WithCacheDir(n.cfg.CacheDir), constant.WithLogLevel("error")),
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig(loopback.Host, n.httpPort,
			constant.WithContextPath("/nacos"), constant.WithGrpcPort(n.grpcPort))},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

// zookeeperLegacy starts a real ZooKeeper and returns its registry entry,
// named name, with the server (skipped where ZooKeeper is not installed).
func zookeeperLegacy(t *testing.T, name string) (registrysync.RegistryConfig, *zookeepertest.Server) {
	t.Helper()
	srv := zookeepertest.Start(t)
	cfg := zookeeper.NewConfig()
	cfg.Servers, cfg.SessionTimeout = []string{srv.Addr}, 2*time.Second
	return registrysync.RegistryConfig{Name: name, Type: "zookeeper", Settings: cfg}, srv
}
