package main

import (
	"context"
	"log/slog"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
)

// controlRegistrar registers through the native control API with a lease
// it renews, for meshes without a legacy registry client.
type controlRegistrar struct {
	r      registration
	client *control.Client
	log    *slog.Logger
}

func newControlRegistrar(r registration, log *slog.Logger) (registrar, error) {
	c, err := controlClient(r.URL, log)
	if err != nil {
		return nil, err
	}
	return &controlRegistrar{r: r, client: c, log: log}, nil
}

func (c *controlRegistrar) instance() *registry.Instance {
	return &registry.Instance{
		ID: c.r.ID, Service: c.r.Service, Host: c.r.Host, Port: c.r.Port, Metadata: c.r.Metadata,
		Status: registry.StatusUp, Ephemeral: true,
		Lease: registry.Lease{RenewalInterval: c.r.Heartbeat, Duration: 3 * c.r.Heartbeat},
	}
}

func (c *controlRegistrar) Run(ctx context.Context) {
	key := registry.NewInstanceKey("", "", c.r.Service, c.r.ID)
	heartbeatLoop(ctx, c.r.Heartbeat, c.log,
		func(ctx context.Context) error { _, err := c.client.Register(ctx, c.instance()); return err },
		func(ctx context.Context) error { return c.client.Renew(ctx, key) })
	dctx, cancel := context.WithTimeout(context.Background(), deregisterTimeout)
	defer cancel()
	if err := c.client.Deregister(dctx, key); err != nil {
		c.log.Warn("deregister failed", "error", err)
		return
	}
	c.log.Info("deregistered")
}
