package nacos_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// env is one adapter on loopback over a fresh embedded store.
type env struct {
	store    *embedded.Store
	adapter  *nacos.Adapter
	httpAddr string
	grpcAddr string
	server   *adaptertest.Server
	// stopGRPC stops the gRPC server alone, as a crash of its process
	// would, and returns how it ended.
	stopGRPC func() error
}

// testOptions are short timings so expiry and ejection happen within a test.
func testOptions() nacos.Options {
	o := nacos.Options{Logger: slog.New(slog.DiscardHandler)}
	o.GRPC.ConnectionLease = 3 * time.Second
	o.GRPC.AckTimeout = time.Second
	o.GRPC.DrainTimeout = 2 * time.Second
	o.HTTP.DrainTimeout = 2 * time.Second
	o.HTTP.BeatCheckInterval = 50 * time.Millisecond
	return o
}

func startEnv(t testing.TB, opts nacos.Options) *env {
	t.Helper()
	return startEnvOver(t, opts, func(s *embedded.Store) registry.Discovery { return s })
}

// startEnvOver is startEnv with the adapter over wrap(store).
func startEnvOver(t testing.TB, opts nacos.Options, wrap func(*embedded.Store) registry.Discovery) *env {
	t.Helper()
	store := adaptertest.Store(t, func(o *embedded.Options) {
		o.Expiry = embedded.ExpiryOptions{Interval: 50 * time.Millisecond, StartupGrace: -1, SelfPreservationThreshold: -1}
	})
	a, err := nacos.New(wrap(store), opts)
	if err != nil {
		t.Fatal(err)
	}
	server := adaptertest.Start(t, store, adaptertest.Frontend{Serve: a.ServeHTTP, Close: a.Close})
	grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stopGRPC := adaptertest.Go(t, "the Nacos gRPC server", func(ctx context.Context) error { return a.ServeGRPC(ctx, grpcLn) })
	return &env{store: store, adapter: a, httpAddr: server.Addr, grpcAddr: grpcLn.Addr().String(), server: server, stopGRPC: stopGRPC}
}

func (e *env) serverConfig(t testing.TB) constant.ServerConfig {
	_, hp, _ := net.SplitHostPort(e.httpAddr)
	_, gp, _ := net.SplitHostPort(e.grpcAddr)
	port, _ := strconv.ParseUint(hp, 10, 64)
	gport, _ := strconv.ParseUint(gp, 10, 64)
	// The SDK looks for gRPC at port+1000 unless GrpcPort is set.
	return *constant.NewServerConfig("127.0.0.1", port, constant.WithGrpcPort(gport), constant.WithContextPath("/nacos"))
}

func (e *env) clientConfig(t testing.TB, opts ...constant.ClientOption) *constant.ClientConfig {
	base := []constant.ClientOption{
		constant.WithTimeoutMs(5000),
		constant.WithNotLoadCacheAtStart(true),
		constant.WithLogDir(t.TempDir()),
		constant.WithCacheDir(t.TempDir()),
		constant.WithLogLevel("error"),
	}
	return constant.NewClientConfig(append(base, opts...)...)
}

func (e *env) namingClient(t testing.TB, opts ...constant.ClientOption) naming_client.INamingClient {
	t.Helper()
	c, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig:  e.clientConfig(t, opts...),
		ServerConfigs: []constant.ServerConfig{e.serverConfig(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			c.CloseClient()
		}
	})
	return &closeTracking{INamingClient: c, closed: &closed}
}

// closeTracking lets a test close a client itself without the cleanup closing it twice.
type closeTracking struct {
	naming_client.INamingClient
	closed *bool
}

func (c *closeTracking) CloseClient() {
	if !*c.closed {
		*c.closed = true
		c.INamingClient.CloseClient()
	}
}

func (e *env) configClient(t testing.TB, opts ...constant.ClientOption) config_client.IConfigClient {
	t.Helper()
	c, err := clients.NewConfigClient(vo.NacosClientParam{
		ClientConfig:  e.clientConfig(t, opts...),
		ServerConfigs: []constant.ServerConfig{e.serverConfig(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

func listService(t testing.TB, s registry.Store, service string) []*registry.Instance {
	t.Helper()
	insts, _, err := s.List(context.Background(), registry.Filter{Service: service})
	if err != nil {
		t.Fatal(err)
	}
	return insts
}

func isNotFound(err error) bool { return errors.Is(err, registry.ErrNotFound) }
