package selfregister

import (
	"context"
	"log/slog"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
)

// meshRegistrar registers through the native control API with a lease it renews,
// for meshes without a legacy registry client. The control API's token,
// when writes need one, comes from MESHBRIDGE_CONTROL_TOKEN.
type meshRegistrar struct {
	r      Registration
	client *control.Client
	log    *slog.Logger
}

func newMesh(r Registration, log *slog.Logger) (*meshRegistrar, error) {
	token, err := control.TokenFrom("", "")
	if err != nil {
		return nil, err
	}
	c, err := control.NewClient(r.URL, control.WithLogger(log), control.WithToken(token))
	if err != nil {
		return nil, err
	}
	return &meshRegistrar{r: r, client: c, log: log}, nil
}

func (m *meshRegistrar) instance() *registry.Instance {
	return &registry.Instance{
		ID: m.r.ID, Service: m.r.Service, Host: m.r.Host, Port: m.r.Port, Metadata: m.r.Metadata,
		Status: registry.StatusUp, Ephemeral: true,
		Lease: registry.Lease{RenewalInterval: m.r.Heartbeat, Duration: 3 * m.r.Heartbeat},
	}
}

func (m *meshRegistrar) Run(ctx context.Context) {
	key := registry.NewInstanceKey("", "", m.r.Service, m.r.ID)
	heartbeatLoop(ctx, m.r.Heartbeat, m.log,
		func(ctx context.Context) error { _, err := m.client.Register(ctx, m.instance()); return err },
		func(ctx context.Context) error { return m.client.Renew(ctx, key) })
	dctx, cancel := context.WithTimeout(context.Background(), deregisterTimeout)
	defer cancel()
	if err := m.client.Deregister(dctx, key); err != nil {
		m.log.Warn("deregister failed", "error", err)
		return
	}
	m.log.Info("deregistered")
}
