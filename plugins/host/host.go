package host

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Host.
type Options struct {
	// Logger receives the host's and the plugins' log lines (each with
	// plugin=<name>); default slog.Default().
	Logger *slog.Logger
	// Metrics, when set, receives the meshbridge_plugin_* metrics.
	Metrics prometheus.Registerer
}

// Host runs the plugins of one binary.
type Host struct {
	plugins map[string]*Plugin
	order   []*Plugin
	log     *slog.Logger
}

// Start validates the configurations and starts every plugin; it fails,
// leaving nothing running, if any plugin cannot start (missing binary,
// checksum mismatch, failed handshake). ctx bounds the start only: plugins
// run until Close.
func Start(ctx context.Context, cfgs []Config, opts Options) (*Host, error) {
	if err := ValidateAll(cfgs); err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	h := &Host{plugins: map[string]*Plugin{}, log: logger.With("component", "plugins.host")}
	m := newMetrics(opts.Metrics)
	for _, c := range cfgs {
		if err := ctx.Err(); err != nil {
			h.Close()
			return nil, fmt.Errorf("plugins: start: %w", err)
		}
		p, err := startPlugin(c, h.log, m)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("plugins: %w", err)
		}
		h.plugins[p.Name()] = p
		h.order = append(h.order, p)
	}
	return h, nil
}

// Plugin returns the named plugin.
func (h *Host) Plugin(name string) (*Plugin, bool) {
	p, ok := h.plugins[name]
	return p, ok
}

// Plugins returns every plugin in configuration order.
func (h *Host) Plugins() []*Plugin { return append([]*Plugin(nil), h.order...) }

// Select returns the named plugins in the order given, or an error naming
// the first unknown one (for chains and transformer lists in config).
func (h *Host) Select(names ...string) ([]*Plugin, error) {
	out := make([]*Plugin, 0, len(names))
	for _, n := range names {
		p, ok := h.plugins[n]
		if !ok {
			return nil, fmt.Errorf("plugins: no plugin named %q is configured", n)
		}
		out = append(out, p)
	}
	return out, nil
}

// Transformers returns every plugin that declared the instance transformer
// kind, in configuration order: what the registry-adapter wraps its store
// with when its configuration does not list them.
func (h *Host) Transformers() []*Plugin {
	var out []*Plugin
	for _, p := range h.order {
		if p.Info().Instances {
			out = append(out, p)
		}
	}
	return out
}

// Close stops every plugin (each gets a few seconds to exit before it is
// killed) and waits until their processes are reaped. Drain the servers
// that call plugins first: calls in flight during Close fail with
// ErrUnavailable.
func (h *Host) Close() {
	var wg sync.WaitGroup
	for _, p := range h.order {
		wg.Go(p.Close)
	}
	wg.Wait()
}
