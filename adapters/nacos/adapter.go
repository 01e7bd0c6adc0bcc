package nacos

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/meshbridge/meshbridge/adapters/nacos/auth"
	"github.com/meshbridge/meshbridge/adapters/nacos/config"
	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/adapters/nacos/v1"
	"github.com/meshbridge/meshbridge/adapters/nacos/v2"
	"github.com/meshbridge/meshbridge/registry"
)

// Adapter serves the Nacos APIs over one registry (a registry.Discovery).
type Adapter struct {
	log   *slog.Logger
	store registry.Discovery
	hub   *config.Hub
	http  *v1.Server
	grpc  *v2.Server

	startOnce sync.Once
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

// New builds the adapter; it starts nothing until one of the Serve
// methods (or HTTPHandler) is called. Call Close when done.
func New(store registry.Discovery, opts Options) (*Adapter, error) {
	if store == nil {
		return nil, fmt.Errorf("nacos: store is required")
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("nacos: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	authn, err := auth.New(opts.Auth)
	if err != nil {
		return nil, err
	}
	clock := &naming.Clock{}
	configs := config.NewStore(store)
	hub := config.NewHub(store, log.With("component", "nacos.config"))
	httpOpts := opts.HTTP
	httpOpts.Store, httpOpts.Auth, httpOpts.Configs, httpOpts.ConfigHub, httpOpts.Clock, httpOpts.Logger = store, authn, configs, hub, clock, log
	hs, err := v1.New(httpOpts)
	if err != nil {
		return nil, fmt.Errorf("nacos: %w", err)
	}
	grpcOpts := v2.Options{Store: store, Auth: authn, Configs: configs, ConfigHub: hub, Clock: clock, Logger: log}
	opts.GRPC.apply(&grpcOpts)
	gs, err := v2.New(grpcOpts)
	if err != nil {
		return nil, fmt.Errorf("nacos: %w", err)
	}
	return &Adapter{log: log, store: store, hub: hub, http: hs, grpc: gs}, nil
}

// start runs the shared background work once: the config change watch
// and the heartbeat checker of v1 instances.
func (a *Adapter) start() {
	a.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		a.stop = cancel
		a.wg.Add(2)
		go func() { defer a.wg.Done(); a.hub.Run(ctx) }()
		go func() { defer a.wg.Done(); a.http.RunBeatChecker(ctx) }()
	})
}

// HTTPHandler is the v1 API (/nacos/...), for mounting on a server of the
// caller's; background work starts with it.
func (a *Adapter) HTTPHandler() http.Handler {
	a.start()
	return a.http.Handler()
}

// ServeHTTP serves the v1 API on ln until ctx ends, then drains.
func (a *Adapter) ServeHTTP(ctx context.Context, ln net.Listener) error {
	a.start()
	return a.http.Serve(ctx, ln)
}

// ServeGRPC serves the v2 gRPC protocol on ln (by convention the HTTP
// port + DefaultGRPCPortOffset) until ctx ends, then drains.
func (a *Adapter) ServeGRPC(ctx context.Context, ln net.Listener) error {
	a.start()
	return a.grpc.Serve(ctx, ln)
}

// Close stops the background work. It does not stop servers: cancel their
// contexts first.
func (a *Adapter) Close() error {
	a.startOnce.Do(func() {}) // nothing started, nothing to start later
	if a.stop != nil {
		a.stop()
	}
	a.wg.Wait()
	return nil
}

// GRPCAddr gives the conventional gRPC address for an HTTP address: the
// same host, port + 1000.
func GRPCAddr(httpAddr string) (string, error) {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "", fmt.Errorf("nacos: %w", err)
	}
	var p int
	if _, err := fmt.Sscanf(port, "%d", &p); err != nil || p < 0 || p+DefaultGRPCPortOffset > 65535 {
		return "", fmt.Errorf("nacos: port %q has no gRPC port at +%d", port, DefaultGRPCPortOffset)
	}
	return net.JoinHostPort(host, fmt.Sprint(p+DefaultGRPCPortOffset)), nil
}
