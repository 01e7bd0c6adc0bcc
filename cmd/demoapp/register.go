package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// registration is what every registrar registers.
type registration struct {
	URL           string
	NacosGRPCPort int
	Service, ID   string
	Host          string
	Port          int
	Metadata      map[string]string
	Heartbeat     time.Duration
}

// registrar keeps one instance registered until ctx ends, then deregisters
// it. Run never gives up while ctx lives: a registry that is down or
// restarting is retried, as a real client does.
type registrar interface {
	Run(ctx context.Context)
}

func newRegistrar(kind string, r registration, log *slog.Logger) (registrar, error) {
	log = log.With("component", "demoapp.registry", "registry", kind)
	switch kind {
	case "none":
		return noRegistrar{}, nil
	case "control":
		return newControlRegistrar(r, log)
	case "nacos":
		return newNacosRegistrar(r, log)
	}
	if f, ok := extraRegistrars[kind]; ok {
		return f(r, log)
	}
	return nil, fmt.Errorf("--registry: %q is not built into this demoapp", kind)
}

// extraRegistrars holds the registrars that register themselves from their
// own files (one per registry client library).
var extraRegistrars = map[string]func(registration, *slog.Logger) (registrar, error){}

type noRegistrar struct{}

func (noRegistrar) Run(ctx context.Context) { <-ctx.Done() }

// deregisterTimeout bounds the goodbye call after ctx ended.
const deregisterTimeout = 5 * time.Second

// heartbeatLoop calls beat every interval until ctx ends; a failed beat is
// logged and followed by register (the registry may have lost or expired
// the instance). It is shared by the registrars whose clients have no
// heartbeat of their own.
func heartbeatLoop(ctx context.Context, interval time.Duration, log *slog.Logger, register, beat func(context.Context) error) {
	registered := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var err error
		if !registered {
			if err = register(ctx); err == nil {
				registered = true
				log.Info("registered")
			}
		} else if err = beat(ctx); err != nil {
			registered = false
			if errors.Is(err, registry.ErrNotFound) {
				log.Info("the registry forgot this instance; registering again")
				continue
			}
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("registry call failed; retrying", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
