package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	_ "github.com/meshbridge/meshbridge/registrysync/install" // every connector of this build
	"github.com/meshbridge/meshbridge/registrysync/mesh"
)

// dryRunTimeout bounds --dry-run's listings.
const dryRunTimeout = time.Minute

// serveAll starts the plugins, builds the syncer and, but for a dry run,
// adds it and the admin listener to the run group. The syncer stops
// first, so that /status answers while it drains.
func serveAll(ctx context.Context, cfg *Config, env *app.Env) error {
	if cfg.ReleaseBreaker {
		return releaseBreaker(ctx, cfg.Admin.Listen, env.Stdout)
	}
	log := env.Logger
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	transformers, err := startTransformers(ctx, cfg, env, reg)
	if err != nil {
		return err
	}
	opts := registrysync.Options{
		Transformers: transformers, Logger: log, Metrics: reg,
		RemoveCopiesOnStop: cfg.Drain.RemoveCopies, DrainTimeout: cfg.Drain.Timeout,
	}
	if !cfg.DryRun && cfg.Election.Registry != "" {
		if opts.Elector, err = elector(cfg, log); err != nil {
			return app.UsageError(err)
		}
	}
	syncer, err := registrysync.New(cfg.SyncConfig, opts)
	if err != nil {
		return app.UsageError(err)
	}
	if cfg.DryRun {
		dctx, cancel := context.WithTimeout(ctx, dryRunTimeout)
		defer cancel()
		plans, err := syncer.DryRun(dctx)
		if err != nil {
			return fmt.Errorf("dry run: %w", err)
		}
		return registrysync.WritePlan(env.Stdout, plans)
	}
	mux := http.NewServeMux()
	mux.Handle("/status", syncer.Handler())
	mux.Handle("/breaker/release", syncer.Handler())
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	if err := serve.Join(env.Group, serve.Listener{Name: "admin", Addr: cfg.Admin.Listen, Handler: mux}, log,
		serve.Timeouts{Shutdown: cfg.Drain.Timeout}, serve.Limits{}); err != nil {
		return err
	}
	env.GoFirst(syncer.Run)
	return nil
}

// startTransformers starts the plugins and returns, by pair, the
// transformers each pair names.
func startTransformers(ctx context.Context, cfg *Config, env *app.Env, reg prometheus.Registerer) (map[int]registrysync.TransformFunc, error) {
	if len(cfg.Plugins) == 0 {
		return nil, nil
	}
	plugins, err := host.Start(ctx, cfg.Plugins, host.Options{Logger: env.Logger, Metrics: reg})
	if err != nil {
		return nil, err
	}
	env.Cleanup(plugins.Close)
	out := map[int]registrysync.TransformFunc{}
	for i, p := range cfg.Pairs {
		if len(p.Transformers) == 0 {
			continue
		}
		chosen, err := plugins.Select(p.Transformers...)
		if err != nil {
			return nil, app.UsageError(fmt.Errorf("config: pairs[%d].transformers: %w", i, err))
		}
		for _, t := range chosen {
			if !t.Info().Instances {
				return nil, app.UsageError(fmt.Errorf("config: pairs[%d].transformers: %q is not an instance transformer plugin", i, t.Name()))
			}
		}
		out[i] = func(ctx context.Context, inst *registry.Instance) (*registry.Instance, error) {
			return host.Transform(ctx, inst, chosen...)
		}
	}
	return out, nil
}

// elector campaigns through the control API of the registry the
// election names, as this replica: host, process and a random part, so
// that a restarted replica is a new candidate.
func elector(cfg *Config, log *slog.Logger) (registrysync.Elector, error) {
	var settings *mesh.Config
	for _, r := range cfg.Registries {
		if r.Name == cfg.Election.Registry {
			settings, _ = r.Settings.(*mesh.Config)
		}
	}
	if settings == nil {
		return nil, fmt.Errorf("config: election.registry: %q is not a registry of type mesh", cfg.Election.Registry)
	}
	host, _ := os.Hostname() // a candidate id needs no host name to be unique
	random := make([]byte, 4)
	_, _ = rand.Read(random) // crypto/rand does not fail
	candidate := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(random))
	log.Info("campaigning to write", "election", cfg.electionName(), "candidate", candidate, "ttl", cfg.Election.TTL)
	return mesh.NewElector(settings, cfg.electionName(), candidate, cfg.Election.TTL, log.With("component", "registrysync.election"))
}

// releaseBreaker posts /breaker/release to the syncer listening on admin
// on this host, over loopback (the only place it answers from), and copies
// its answer ({"released": n}) to out.
func releaseBreaker(ctx context.Context, admin string, out io.Writer) error {
	host, port, err := net.SplitHostPort(admin)
	if err != nil {
		return app.UsageError(fmt.Errorf("admin.listen %q: %w", admin, err))
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		host = "127.0.0.1" // :8710 and 0.0.0.0:8710 answer on loopback too
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+net.JoinHostPort(host, port)+"/breaker/release", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return fmt.Errorf("release breaker: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return fmt.Errorf("release breaker: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("release breaker: %s answered %s: %s", req.URL, resp.Status, body)
	}
	_, err = out.Write(body)
	return err
}
