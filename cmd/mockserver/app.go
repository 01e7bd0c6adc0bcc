package main

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/selfregister"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/mock"
	"github.com/meshbridge/meshbridge/plugins/host"
)

// serveMock loads the stubs (a bad set ends it before anything listens),
// then serves them and the admin API, reloads changed files, and keeps
// the mock registered. The registrations stop first on SIGTERM, so that
// callers stop choosing the mock while it still answers.
func serveMock(ctx context.Context, cfg *Config, env *app.Env) error {
	log := env.Logger
	middleware, err := startPlugins(ctx, cfg, env)
	if err != nil {
		return err
	}
	met := newMetrics()
	opts := mock.Options{
		Strict: cfg.Strict, MaxBodyBytes: cfg.Limits.MaxBodyBytes, AdminMaxBodyBytes: cfg.Limits.AdminMaxBodyBytes,
		JournalEntries: cfg.Journal.Entries, JournalBytes: cfg.Journal.Bytes, NearMisses: cfg.NearMisses,
		Middleware: middleware, Served: met.served, Logger: log.With("component", "mock"),
	}
	roots, err := stubSources(cfg, env, &opts)
	if err != nil {
		return err
	}
	srv, err := mock.New(opts)
	if err != nil {
		return err
	}
	if err := srv.LoadFiles(roots...); err != nil {
		return app.UsageError(err)
	}
	met.watch(srv)
	st := srv.Status()
	log.Info("stubs loaded", "stubs", st.Stubs, "files", st.Files, "roots", roots)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("stubs listener on %s: %w", cfg.Listen, err)
	}
	env.Cleanup(func() { _ = ln.Close() }) // released if what follows fails; closing twice is harmless
	timeouts := serve.Timeouts{ReadHeader: cfg.Timeouts.ReadHeader, ReadBody: cfg.Timeouts.ReadBody, Idle: cfg.Timeouts.Idle, Shutdown: cfg.Timeouts.Drain}
	limits := serve.Limits{HeaderBytes: cfg.Limits.HeaderBytes}
	adminHere := http.NewServeMux() // the admin API's part on the stubs' listener
	isAdmin := func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/__admin/") }
	if cfg.Admin.Listen == "" {
		adminHere.Handle("/__admin/", srv.Admin())
		adminHere.Handle("GET /__admin/metrics", met.handler()) // beside the stubs, /metrics could be a stub's
	} else {
		// Registries' health checks call the address they were given.
		adminHere.Handle("GET /__admin/health", srv.Admin())
		isAdmin = func(r *http.Request) bool { return r.URL.Path == "/__admin/health" }
		admin := http.NewServeMux()
		admin.Handle("/", srv.Admin())
		admin.Handle("GET /metrics", met.handler())
		if err := serve.Join(env.Group, serve.Listener{Name: "admin", Addr: cfg.Admin.Listen, Handler: admin}, log, timeouts, limits); err != nil {
			return err
		}
	}
	// Every other request goes to the stubs as sent: a ServeMux would
	// answer a path such as //a or /a/../b with a redirect, not a stub,
	// and its pattern matching costs a request more than a prefix test.
	stubs := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAdmin(r) {
			adminHere.ServeHTTP(w, r)
			return
		}
		srv.Handler().ServeHTTP(w, r)
	})
	if err := serve.Join(env.Group, serve.Listener{Name: "stubs", Listener: ln, Handler: stubs}, log, timeouts, limits); err != nil {
		return err
	}
	env.Go(func(ctx context.Context) error { return srv.Watch(ctx, cfg.ReloadInterval) })
	log.Info("mockserver listening", "addr", ln.Addr().String(), "admin", cfg.Admin.Listen)
	return register(cfg, ln.Addr(), env)
}

// register adds a registrar for each registry named to env's group, as
// GoFirst actors: they deregister before the listeners drain.
func register(cfg *Config, bound net.Addr, env *app.Env) error {
	r := cfg.Register
	if len(r.Registries) == 0 {
		return nil
	}
	host, port, err := advertised(cfg, bound)
	if err != nil {
		return app.UsageError(fmt.Errorf("config: register.advertise: %w", err))
	}
	id := r.InstanceID
	if id == "" {
		id = fmt.Sprintf("%s-mock-%s-%d", cfg.Service, host, port)
	}
	meta := maps.Clone(r.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	meta["mock"], meta["version"] = "true", r.Version
	for _, kind := range r.Registries {
		reg, err := selfregister.New(kind, selfregister.Registration{
			URL: r.registryURL(kind), NacosGRPCPort: r.Nacos.GRPCPort, Service: cfg.Service, ID: id,
			Host: host, Port: port, Metadata: meta, HealthPath: "/__admin/health", Heartbeat: r.Heartbeat,
		}, env.Logger)
		if err != nil {
			return app.UsageError(fmt.Errorf("config: register.%s: %w", kind, err))
		}
		env.GoFirst(func(ctx context.Context) error {
			reg.Run(ctx) // retries until ctx ends, then deregisters
			return nil
		})
	}
	env.Logger.Info("registering", "service", cfg.Service, "registries", r.Registries, "advertise", net.JoinHostPort(host, strconv.Itoa(port)), "instance", id)
	return nil
}

// advertised is the address callers are given: register.advertise, else
// the listen address's own host, else this host's first address that is
// not loopback; the port, unless advertise names one, is the listener's.
func advertised(cfg *Config, bound net.Addr) (string, int, error) {
	port := bound.(*net.TCPAddr).Port
	host, p, err := splitAdvertise(cfg.Register.Advertise)
	if err != nil {
		return "", 0, err
	}
	if p != 0 {
		port = p
	}
	if host != "" {
		return host, port, nil
	}
	if h, _, _ := net.SplitHostPort(cfg.Listen); h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			return h, port, nil // the operator bound one address: that is the one to give
		}
	}
	host, err = selfregister.AdvertiseHost()
	return host, port, err
}

// startPlugins starts the configured plugins and returns the middleware
// the configuration puts in front of the stubs.
func startPlugins(ctx context.Context, cfg *Config, env *app.Env) ([]mock.Middleware, error) {
	if len(cfg.Plugins) == 0 {
		return nil, nil
	}
	plugins, err := host.Start(ctx, cfg.Plugins, host.Options{Logger: env.Logger})
	if err != nil {
		return nil, err
	}
	env.Cleanup(plugins.Close)
	chosen, err := plugins.Select(cfg.Middleware...)
	if err != nil {
		return nil, app.UsageError(fmt.Errorf("config: middleware: %w", err))
	}
	var out []mock.Middleware
	for _, p := range chosen {
		out = append(out, func(next http.Handler) (http.Handler, error) { return host.HTTPMiddleware(p, next) })
	}
	return out, nil
}
