package main

import (
	"context"
	"fmt"
	"os"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/sidecar"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
)

// runSidecar builds the sidecar and its plugins; the sidecar joins the run
// group, and the plugins stop after it drained.
func runSidecar(ctx context.Context, cfg *config.Config, env *app.Env) error {
	log := env.Logger
	if err := checkPluginNames(cfg); err != nil {
		return app.UsageError(fmt.Errorf("config: %w", err))
	}
	token, err := control.TokenFrom(cfg.Control.Token, cfg.Control.TokenFile)
	if err != nil {
		return app.UsageError(fmt.Errorf("config: control.tokenFile: %w", err))
	}
	cfg.Control.Token = token
	sidecar.ApplyRuntime(cfg.Runtime, os.Getenv, log)
	var ctl sidecar.Control
	if cfg.Control.Address != "" {
		c, err := control.NewClient(cfg.Control.Address, control.WithToken(token), control.WithLogger(log))
		if err != nil {
			return app.UsageError(fmt.Errorf("control.address: %w", err))
		}
		ctl = c
	}
	ms := metrics.New() // shared by the sidecar and the plugin host: one /metrics
	stopPlugins, err := startPlugins(ctx, cfg, log, ms.Registry)
	if err != nil {
		return fmt.Errorf("plugins failed to start: %w", err)
	}
	env.Cleanup(stopPlugins)
	sc, err := sidecar.New(cfg, sidecar.Options{Control: ctl, Logger: log, Metrics: ms})
	if err != nil {
		return err
	}
	return sc.Join(env.Group)
}
