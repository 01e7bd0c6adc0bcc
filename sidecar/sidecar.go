package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/admin"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/handlers/transport"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/proxy"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Control is what the sidecar needs from the control plane: the routing
// tables (Sync) and what the mesh view forwards (meshview.Upstream), which
// includes the sidecar's own registration. *control.Client implements it.
type Control interface {
	Sync(ctx context.Context, opts control.SyncOptions, h control.SyncHandler) error
	meshview.Upstream
}

// Options are what New needs besides the config.
type Options struct {
	// Control is the control plane; nil runs without one (the table is
	// then fed through Tables(), as tests do).
	Control Control
	Logger  *slog.Logger
	// Egress, Ingress and Admin, when set, are used instead of listening on
	// the configured addresses (tests pass 127.0.0.1:0 listeners).
	Egress, Ingress, Admin net.Listener
	// Metrics, when set, is the metric set the sidecar records into and
	// serves on /metrics, so the binary can register more collectors on
	// its registry (the plugin host's); nil makes a new one.
	Metrics *metrics.Set
}

// Sidecar is one data-plane proxy.
type Sidecar struct {
	cfg     *config.Config
	opts    Options
	logger  *slog.Logger
	metrics *metrics.Set
	tables  *table.Holder

	transport *transport.Handler
	handlers  []chain.Handler
	egress    *proxy.Egress
	ingress   *proxy.Ingress

	draining atomic.Bool
	locals   *locals
	view     atomic.Pointer[meshview.View]
}

// New builds a sidecar from a validated config. It opens no socket and
// starts nothing; Run does.
func New(cfg *config.Config, opts Options) (s *Sidecar, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	s = &Sidecar{cfg: cfg, opts: opts, logger: opts.Logger.With("component", "sidecar"), metrics: opts.Metrics}
	defer func() {
		if err != nil {
			s.cleanup() // handlers built so far may hold goroutines
		}
	}()
	s.tables = table.NewHolder(table.Options{Namespace: cfg.Service.Namespace, MaxCanaries: cfg.Routing.MaxCanaries}, opts.Logger)
	s.tables.OnSwap(func(t *table.Table) {
		s.metrics.TableRevision.Set(float64(t.Revision))
		s.metrics.TableSwaps.Inc()
	})
	tc := *cfg.Handlers[transport.Name].(*transport.Config)
	tc.NetHTTP = cfg.Runtime.HTTP == config.HTTPNetHTTP
	s.transport, err = transport.New(&tc, chain.Deps{Logger: opts.Logger, Metrics: s.metrics})
	if err != nil {
		return nil, fmt.Errorf("sidecar: transport: %w", err)
	}
	s.handlers = append(s.handlers, s.transport)
	deps := chain.Deps{Logger: opts.Logger, Metrics: s.metrics, LocalService: cfg.Service.Name, Send: s.transport.Send}

	deps.Direction = chain.Outbound
	out, hs, err := buildChain(cfg.Egress.Chain, cfg, deps, s.transport)
	s.handlers = append(s.handlers, hs...)
	if err != nil {
		return nil, err
	}
	deps.Direction = chain.Inbound
	in, hs, err := buildChain(cfg.Ingress.Chain, cfg, deps, s.transport)
	s.handlers = append(s.handlers, hs...)
	if err != nil {
		return nil, err
	}

	s.egress = proxy.NewEgress(proxy.EgressOptions{
		Tables: s.tables, Chain: out.Serve,
		Resolver: &proxy.NameResolver{StripSuffixes: cfg.Egress.Resolver.StripSuffixes, Aliases: cfg.Egress.Resolver.Aliases},
		Allow:    cfg.Egress.AllowHosts, Direct: s.transport.Send,
		MaxBody: cfg.Limits.MaxRequestBody, Metrics: s.metrics, Logger: opts.Logger,
	})
	ports := make([]proxy.AppPort, len(cfg.Service.Ports))
	for i, p := range cfg.Service.Ports {
		ports[i] = proxy.AppPort{Name: p.Name, Port: p.Port, Protocol: p.Protocol, Address: net.JoinHostPort(cfg.Service.Host, strconv.Itoa(p.Port))}
	}
	s.ingress = proxy.NewIngress(proxy.IngressOptions{
		Tables: s.tables, Chain: in.Serve, Service: cfg.Service.Name, Ports: ports,
		MaxBody: cfg.Limits.MaxRequestBody, Metrics: s.metrics, Logger: opts.Logger,
	})
	s.locals = newLocals(s)
	return s, nil
}

// Tables is the routing-table holder (tests feed it directly).
func (s *Sidecar) Tables() *table.Holder { return s.tables }

// Metrics is the sidecar's metric set.
func (s *Sidecar) Metrics() *metrics.Set { return s.metrics }

// Egress is the egress handler (discovery mode mounts ForService on
// per-service listeners).
func (s *Sidecar) Egress() *proxy.Egress { return s.egress }

// MeshView is the registry the discovery front-ends are mounted over, or
// nil when discovery mode is off or Run has not started it yet.
func (s *Sidecar) MeshView() registry.Discovery {
	if v := s.view.Load(); v != nil {
		return v
	}
	return nil
}

// Ready reports whether the sidecar should get traffic.
func (s *Sidecar) Ready() error {
	switch {
	case s.draining.Load():
		return errors.New("draining")
	case !s.tables.Ready():
		return errors.New("waiting for the first routing table from the control plane")
	}
	return nil
}

type server struct {
	name string
	srv  listenerServer
	ln   net.Listener
}

// listenerServer is what serves a listener: the proxy's server for the
// data path, net/http's for admin.
type listenerServer interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
	Close() error
}

// Run serves until ctx ends, then drains as Join says: it is Join with a
// run group of its own, for a sidecar that is not part of a binary's
// (tests).
func (s *Sidecar) Run(ctx context.Context) error {
	g := app.NewGroup()
	if err := s.Join(g); err != nil {
		g.Abort()
		return err
	}
	g.Until(ctx)
	return g.Run()
}

// bind opens the listeners (or takes the given ones) and builds servers:
// egress, ingress, admin in that order.
func (s *Sidecar) bind() ([]server, error) {
	c := s.cfg
	so := s.serverOptions()
	specs := []struct {
		name string
		ln   net.Listener
		addr string
		h    http.Handler
	}{
		{"egress", s.opts.Egress, c.Egress.Listen, s.egress},
		{"ingress", s.opts.Ingress, c.Ingress.Listen, s.ingress},
		{"admin", s.opts.Admin, c.Admin.Listen, admin.Handler(admin.Options{
			Tables: s.tables, Gatherer: s.metrics.Registry, Ready: s.Ready, Pprof: c.Admin.Pprof,
			Config: func() any { return c.Redacted() },
		})},
	}
	var out []server
	for _, sp := range specs {
		ln := sp.ln
		if ln == nil {
			var err error
			if ln, err = net.Listen("tcp", sp.addr); err != nil {
				for _, o := range out {
					_ = o.ln.Close() // we are failing anyway
				}
				return nil, fmt.Errorf("sidecar: %s listener on %s: %w", sp.name, sp.addr, err)
			}
		}
		var srv listenerServer = httpx.NewServer(sp.h, so)
		if sp.name == "admin" {
			srv = adminServer(sp.h, so)
		}
		out = append(out, server{name: sp.name, srv: srv, ln: ln})
	}
	return out, nil
}

// serverOptions are the limits of the data-path listeners: egress,
// ingress and the per-service loopback listeners of discovery mode.
func (s *Sidecar) serverOptions() httpx.ServerOptions {
	l := s.cfg.Limits
	return httpx.ServerOptions{ReadHeaderTimeout: l.ReadHeaderTimeout, ReadBodyTimeout: l.ReadBodyTimeout, IdleTimeout: l.IdleTimeout,
		MaxHeaderBytes: l.MaxHeaderBytes, TunnelIdleTimeout: l.TunnelIdleTimeout, Logger: s.logger,
		NetHTTP: s.cfg.Runtime.HTTP == config.HTTPNetHTTP}
}

// adminServer serves the admin listener with net/http, built as every
// net/http listener of the project is (serve.NewServer): it carries little
// traffic, and pprof and metrics need nothing the proxy server adds. Its
// requests have no body to wait for, but net/http reads what a client
// sends anyway, within the same body read time as the proxy's.
func adminServer(h http.Handler, so httpx.ServerOptions) *http.Server {
	srv := serve.NewServer(h, serve.Timeouts{ReadHeader: so.ReadHeaderTimeout, ReadBody: so.ReadBodyTimeout, Idle: so.IdleTimeout},
		serve.Limits{HeaderBytes: so.MaxHeaderBytes})
	if so.Logger != nil {
		srv.ErrorLog = slog.NewLogLogger(so.Logger.Handler(), slog.LevelDebug)
	}
	return srv
}

// cleanup stops handler goroutines and drops pooled connections; safe to
// call more than once and after a half-done New.
func (s *Sidecar) cleanup() {
	for _, h := range s.handlers {
		if c, ok := h.(chain.Cleaner); ok {
			if err := c.Cleanup(); err != nil {
				s.logger.Warn("handler cleanup", "handler", h.Name(), "error", err)
			}
		}
	}
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
}

var _ Control = (*control.Client)(nil)
