package legacytest

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/util"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	nacosfe "github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync/consul"
	"github.com/meshbridge/meshbridge/registrysync/eureka"
	"github.com/meshbridge/meshbridge/registrysync/nacos"
	"github.com/meshbridge/meshbridge/registrysync/zookeeper"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Store is a stand-in's store, expiring leases as the real registry
// does (an instance registered without a lease stays).
func Store(t testing.TB) *embedded.Store {
	return adaptertest.Store(t, func(o *embedded.Options) {
		o.Expiry = embedded.ExpiryOptions{Interval: 100 * time.Millisecond, StartupGrace: time.Millisecond, SelfPreservationThreshold: -1}
	})
}

// Eureka is a Eureka stand-in.
type Eureka struct {
	Store *embedded.Store
	// URL is the service URL, ".../eureka".
	URL string
}

// StartEureka runs a Eureka stand-in until the test ends.
func StartEureka(t testing.TB) *Eureka {
	t.Helper()
	store := Store(t)
	fe, err := eurekafe.New(store, eurekafe.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := adaptertest.Start(t, store, adaptertest.Frontend{Handler: fe.Handler(), Run: []func(context.Context) error{fe.Run}})
	return &Eureka{Store: store, URL: srv.URL + "/eureka"}
}

// Config is the eureka connector's configuration for e.
func (e *Eureka) Config() *eureka.Config {
	cfg := eureka.NewConfig()
	cfg.URLs, cfg.PollInterval, cfg.RenewalInterval, cfg.LeaseDuration = []string{e.URL}, 100*time.Millisecond, time.Second, 4*time.Second
	return cfg
}

// Conn is a fargo connection to e, as an app or a consumer has one.
func (e *Eureka) Conn() *fargo.EurekaConnection {
	conn := fargo.NewConn(e.URL)
	conn.UseJson = true
	return &conn
}

// Consul is a Consul stand-in (an agent and its catalog).
type Consul struct {
	Store *embedded.Store
	// Addr is the HTTP API's "127.0.0.1:port".
	Addr string
}

// StartConsul runs a Consul stand-in until the test ends.
func StartConsul(t testing.TB) *Consul {
	t.Helper()
	store := Store(t)
	fe := consulfe.New(store, consulfe.Options{Logger: quiet(), NodeName: "node-1", CheckReapInterval: 200 * time.Millisecond, MinDeregisterAfter: time.Second})
	srv := adaptertest.Start(t, store, adaptertest.Frontend{Handler: fe.Handler(), Run: []func(context.Context) error{fe.Run}})
	return &Consul{Store: store, Addr: srv.Addr}
}

// Config is the consul connector's configuration for c.
func (c *Consul) Config() *consul.Config {
	cfg := consul.NewConfig()
	cfg.Address, cfg.Wait, cfg.Timeout = c.Addr, 2*time.Second, 5*time.Second
	return cfg
}

// Client is a consul/api client of c.
func (c *Consul) Client(t testing.TB) *api.Client {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = c.Addr
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// Nacos is a Nacos 2.x stand-in: HTTP and gRPC.
type Nacos struct {
	Store *embedded.Store
	// HTTPAddr is the HTTP API's "127.0.0.1:port"; GRPCPort the gRPC
	// server's port (not HTTP's + 1000: both are chosen by the OS).
	HTTPAddr string
	GRPCPort int
}

// StartNacos runs a Nacos stand-in until the test ends.
func StartNacos(t testing.TB) *Nacos {
	t.Helper()
	// nacos-sdk-go finds the host's IP on first use into a package
	// variable, unsynchronised: found here once, before the syncer's and
	// the test's clients connect at once, it is only read.
	util.LocalIP()
	store := Store(t)
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
	return &Nacos{Store: store, HTTPAddr: front.Addr, GRPCPort: grpcLn.Addr().(*net.TCPAddr).Port}
}

// Config is the nacos connector's configuration for n. The client's log
// and cache stay in the connector's default directories: nacos-sdk-go's
// logger is global, and a client closed by one test may still write
// there after the test's cleanup.
func (n *Nacos) Config() *nacos.Config {
	cfg := nacos.NewConfig()
	cfg.Servers, cfg.GRPCPort = []string{n.HTTPAddr}, n.GRPCPort
	cfg.ListInterval, cfg.Timeout, cfg.LogLevel = 200*time.Millisecond, 3*time.Second, "error"
	return cfg
}

// Client is a nacos-sdk-go naming client of the public namespace, as an
// app or a consumer has one; it is closed when the test ends.
func (n *Nacos) Client(t testing.TB) naming_client.INamingClient {
	t.Helper()
	cfg := n.Config()
	_, p, _ := net.SplitHostPort(n.HTTPAddr)
	httpPort, _ := strconv.ParseUint(p, 10, 16)
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: constant.NewClientConfig(constant.WithTimeoutMs(3000),
			constant.WithNotLoadCacheAtStart(true), constant.WithUpdateCacheWhenEmpty(true),
			constant.WithLogDir(cfg.LogDir), constant.WithCacheDir(cfg.CacheDir), constant.WithLogLevel("error")),
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig(loopback.Host, httpPort,
			constant.WithContextPath("/nacos"), constant.WithGrpcPort(uint64(n.GRPCPort)))},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

// ZooKeeperConfig is the zookeeper connector's configuration for srv,
// with a short session so that a syncer's copies end soon after it.
func ZooKeeperConfig(srv *zookeepertest.Server) *zookeeper.Config {
	cfg := zookeeper.NewConfig()
	cfg.Servers, cfg.SessionTimeout = []string{srv.Addr}, 2*time.Second
	return cfg
}
