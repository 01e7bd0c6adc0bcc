package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registry/etcd"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `registry-adapter: meshbridge's control plane.

Holds the mesh registry and rules; serves the control API (default :8700)
and the Eureka, Consul and Nacos APIs over the same registry.

Usage: registry-adapter [flags]

Flags override the configuration file; see configs/registry-adapter.yaml.
`

// flags are the command-line overrides; empty means "not given".
type flags struct {
	configPath, dataDir, controlListen, storeType, etcdEndpoints string
	showVersion                                                  bool
	extra                                                        map[string]*string
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{extra: map[string]*string{}}
	fs := flag.NewFlagSet("registry-adapter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.configPath, "config", "", "YAML configuration `file`")
	fs.StringVar(&f.dataDir, "data-dir", "", "embedded store `dir`ectory (store.embedded.dir, default ./data)")
	fs.StringVar(&f.controlListen, "control-listen", "", "control API `addr`ess (control.listen, default :8700)")
	fs.StringVar(&f.storeType, "store", "", "store `type`: embedded or etcd (store.type)")
	fs.StringVar(&f.etcdEndpoints, "etcd-endpoints", "", "comma-separated etcd `endpoints` (store.etcd.endpoints)")
	fs.BoolVar(&f.showVersion, "version", false, "print the version and exit")
	for _, a := range adapterFlags {
		f.extra[a.name] = fs.String(a.name, "\x00", a.usage)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return f, nil
}

// loadConfig applies defaults, the file, then flags, and validates.
func loadConfig(f *flags) (Config, error) {
	cfg := DefaultConfig()
	if err := config.Load(f.configPath, &cfg); err != nil {
		return cfg, err
	}
	if f.dataDir != "" {
		cfg.Store.Embedded.Dir = f.dataDir
	}
	if f.controlListen != "" {
		cfg.Control.Listen = f.controlListen
	}
	if f.storeType != "" {
		cfg.Store.Type = f.storeType
	}
	if f.etcdEndpoints != "" {
		cfg.Store.Etcd.Endpoints = strings.Split(f.etcdEndpoints, ",")
	}
	if tok := os.Getenv("MESHBRIDGE_CONTROL_TOKEN"); tok != "" && cfg.Control.Token == "" {
		cfg.Control.Token = tok
	}
	for _, a := range adapterFlags {
		if v := *f.extra[a.name]; v != "\x00" {
			a.apply(&cfg, v)
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "registry-adapter:", err)
		return exitUsage
	}
	if f.showVersion {
		fmt.Fprintln(stdout, "registry-adapter", version)
		return exitOK
	}
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, "registry-adapter:", err)
		return exitUsage
	}
	log, err := logging.New(cfg.Log, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "registry-adapter: config:", err)
		return exitUsage
	}
	if err := serveAll(ctx, cfg, log); err != nil {
		log.Error("registry-adapter failed", "error", err)
		return exitFailed
	}
	log.Info("registry-adapter stopped")
	return exitOK
}

// serveAll opens the store, mounts every API and serves until ctx ends.
func serveAll(ctx context.Context, cfg Config, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	store, err := openStore(ctx, cfg.Store, log, reg)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "error", err)
		}
	}()
	if len(cfg.Plugins) > 0 {
		plugins, err := host.Start(ctx, cfg.Plugins, host.Options{Logger: log, Metrics: reg})
		if err != nil {
			return err
		}
		defer plugins.Close() // after the listeners drained, before the store closes
		if store, err = host.TransformingStore(store, plugins.Transformers()...); err != nil {
			return err
		}
		log.Info("instance transformers on every registration", "plugins", len(plugins.Transformers()))
	}
	group := serve.NewGroup(log, cfg.HTTP.timeouts(), cfg.HTTP.limits())
	ctl := control.NewServer(store, control.ServerOptions{
		Token: cfg.Control.Token, MaxCanariesPerService: cfg.Control.MaxCanariesPerService,
		MaxBodyBytes: cfg.Control.MaxBodyBytes, Logger: log, Registerer: reg, Gatherer: reg,
	})
	group.Add(serve.Listener{Name: "control", Addr: cfg.Control.Listen, Handler: ctl.Handler()})
	return runAll(ctx, &mountEnv{cfg: cfg, store: store, log: log, reg: reg, group: group})
}

// runAll mounts every adapter and serves until ctx ends; the first failure
// of any server stops the others.
func runAll(ctx context.Context, env *mountEnv) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type runner struct {
		name string
		fn   func(context.Context) error
	}
	var runners []runner
	var stops []func()
	env.run = func(name string, fn func(context.Context) error) { runners = append(runners, runner{name, fn}) }
	env.onStop = func(f func()) { stops = append(stops, f) }
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	for _, m := range mounters {
		if err := m(env); err != nil {
			return err
		}
	}
	errc := make(chan error, len(runners)+1)
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.fn(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", r.name, err)
				cancel()
			}
		}()
	}
	err := env.group.Serve(ctx)
	cancel()
	wg.Wait()
	close(errc)
	return errors.Join(err, <-errc)
}

func openStore(ctx context.Context, c StoreConfig, log *slog.Logger, reg prometheus.Registerer) (registry.Store, error) {
	switch c.Type {
	case "etcd":
		return etcd.Open(ctx, etcd.Options{
			Endpoints: c.Etcd.Endpoints, Prefix: c.Etcd.Prefix, DialTimeout: c.Etcd.DialTimeout,
			Username: c.Etcd.Username, Password: c.Etcd.Password, History: c.History,
			SessionTTL: c.Etcd.SessionTTL, Logger: log, Metrics: reg,
		})
	default:
		return embedded.Open(embedded.Options{
			Dir: c.Embedded.Dir, History: c.History, SnapshotBytes: c.Embedded.SnapshotBytes,
			Expiry: embedded.ExpiryOptions{
				Disabled: !c.Expiry.Enabled, Interval: c.Expiry.Interval, StartupGrace: c.Expiry.StartupGrace,
				SelfPreservationThreshold: thresholdOrOff(c.Expiry.SelfPreservationThreshold),
				SelfPreservationMinLeases: c.Expiry.SelfPreservationMinLeases,
			},
			Logger: log, Metrics: reg,
		})
	}
}

// thresholdOrOff maps the config's 0 ("off") to the store's negative "off".
func thresholdOrOff(v float64) float64 {
	if v == 0 {
		return -1
	}
	return v
}
