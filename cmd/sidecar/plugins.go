package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/host/sidecarhost"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/handlers/plugin"
)

// slot is the sidecar's plugin host. It is installed at init so configs
// that use the plugin handler validate, and filled once the plugins listed
// in the configuration have started.
var slot = &pluginSlot{}

func init() { plugin.SetHost(slot) }

type pluginSlot struct {
	mu   sync.RWMutex
	host *sidecarhost.Host
}

func (s *pluginSlot) Handler(names []string, deps chain.Deps) (chain.Handler, error) {
	s.mu.RLock()
	h := s.host
	s.mu.RUnlock()
	if h == nil {
		return nil, errors.New("plugins: none are configured (list them under plugins:)")
	}
	return h.Handler(names, deps)
}

// checkPluginNames makes every name the plugin handler lists a configured plugin.
func checkPluginNames(cfg *config.Config) error {
	pc, ok := cfg.Handlers[plugin.Name].(*plugin.Config)
	if !ok {
		return nil
	}
	known := map[string]bool{}
	for _, p := range cfg.Plugins {
		known[p.Name] = true
	}
	for i, n := range pc.Plugins {
		if !known[n] {
			return fmt.Errorf("handlers.plugin.plugins[%d]: no plugin named %q under plugins:", i, n)
		}
	}
	return nil
}

// startPlugins starts the configured plugins, their meshbridge_plugin_*
// metrics on reg; the returned stop runs after the sidecar drained.
func startPlugins(ctx context.Context, cfg *config.Config, log *slog.Logger, reg prometheus.Registerer) (stop func(), err error) {
	if len(cfg.Plugins) == 0 {
		return func() {}, nil
	}
	h, err := host.Start(ctx, cfg.Plugins, host.Options{Logger: log, Metrics: reg})
	if err != nil {
		return nil, err
	}
	slot.mu.Lock()
	slot.host = sidecarhost.New(h)
	slot.mu.Unlock()
	return h.Close, nil
}
