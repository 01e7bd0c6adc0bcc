package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	_ "github.com/meshbridge/meshbridge/adapters/install" // every registry front-end of this build
	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registry/etcd"
)

// serveAll opens the store, starts the plugins and mounts the control API
// and every enabled registry front-end over the store, each listener in
// the run group. The store closes after everything drained, the plugins
// just before it.
func serveAll(ctx context.Context, cfg *Config, env *app.Env) error {
	log := env.Logger
	token, err := control.TokenFrom(cfg.Control.Token, cfg.Control.TokenFile)
	if err != nil {
		return app.UsageError(fmt.Errorf("config: control.tokenFile: %w", err))
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	store, err := openStore(ctx, cfg.Store, log, reg)
	if err != nil {
		return err
	}
	env.Cleanup(func() {
		if err := store.Close(); err != nil {
			log.Error("closing the store", "error", err)
		}
	})
	if len(cfg.Plugins) > 0 {
		plugins, err := host.Start(ctx, cfg.Plugins, host.Options{Logger: log, Metrics: reg})
		if err != nil {
			return err
		}
		env.Cleanup(plugins.Close)
		if store, err = host.TransformingStore(store, plugins.Transformers()...); err != nil {
			return err
		}
		log.Info("instance transformers on every registration", "plugins", len(plugins.Transformers()))
	}
	t, l := cfg.HTTP.timeouts(), cfg.HTTP.limits()
	ctl := control.NewServer(store, control.ServerOptions{
		Token: token, MaxCanariesPerService: cfg.Control.MaxCanariesPerService,
		MaxBodyBytes: cfg.Control.MaxBodyBytes, Logger: log, Registerer: reg, Gatherer: reg,
	})
	if cfg.Control.Listen == "" {
		log.Info("listener disabled", "listener", "control")
	} else if err := serve.Join(env.Group, serve.Listener{Name: "control", Addr: cfg.Control.Listen, Handler: ctl.Handler()}, log, t, l); err != nil {
		return err
	}
	for _, k := range frontend.Kinds() {
		fe := frontend.Env{Registry: store, Group: env.Group, Logger: log, Metrics: reg, Timeouts: t, Limits: l}
		if err := k.Mount(cfg.FrontEnds[k.Name], fe); err != nil {
			return err
		}
	}
	return nil
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
