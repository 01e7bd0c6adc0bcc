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

// adapterFlags lists the registry front-ends' flags; each adapter's file adds its own.
var adapterFlags []adapterFlag

// mountEnv is what an adapter needs to mount itself.
type mountEnv struct {
	cfg   Config
	store registry.Discovery
	log   *slog.Logger
	reg   prometheus.Registerer
	group *serve.Group
	// run adds a server that is not a plain HTTP handler (gRPC, a server with
	// its own drain); it must return when ctx ends.
	run func(name string, fn func(ctx context.Context) error)
	// onStop adds cleanup that runs after every listener drained.
	onStop func(func())
}

// mounter mounts one adapter if its configuration enables it.
type mounter func(env *mountEnv) error

// mounters lists the front-ends, each registered from its own file.
var mounters []mounter
