package selfregister

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/consul/api"
)

// consulRegistrar registers through hashicorp/consul/api with a TTL check it keeps
// passing, as Spring Cloud Consul does with heartbeats enabled.
type consulRegistrar struct {
	r      Registration
	client *api.Client
	log    *slog.Logger
}

func newConsul(r Registration, log *slog.Logger) (*consulRegistrar, error) {
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("consul: url: %w", err)
	}
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Scheme = u.Host, u.Scheme
	cfg.HttpClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul: %w", err)
	}
	return &consulRegistrar{r: r, client: c, log: log}, nil
}

func (c *consulRegistrar) checkID() string { return "service:" + c.r.ID }

func (c *consulRegistrar) Run(ctx context.Context) {
	agent := c.client.Agent()
	reg := &api.AgentServiceRegistration{
		ID: c.r.ID, Name: c.r.Service, Address: c.r.Host, Port: c.r.Port, Meta: c.r.Metadata,
		Check: &api.AgentServiceCheck{CheckID: c.checkID(), TTL: (3 * c.r.Heartbeat).String(), DeregisterCriticalServiceAfter: "1m"},
	}
	heartbeatLoop(ctx, c.r.Heartbeat, c.log,
		func(ctx context.Context) error {
			if err := agent.ServiceRegisterOpts(reg, api.ServiceRegisterOpts{}.WithContext(ctx)); err != nil {
				return err
			}
			// A new TTL check starts critical; pass it at once.
			return agent.UpdateTTLOpts(c.checkID(), "registered", api.HealthPassing, (&api.QueryOptions{}).WithContext(ctx))
		},
		func(ctx context.Context) error {
			return agent.UpdateTTLOpts(c.checkID(), "ok", api.HealthPassing, (&api.QueryOptions{}).WithContext(ctx))
		})
	dctx, cancel := context.WithTimeout(context.Background(), deregisterTimeout)
	defer cancel()
	if err := agent.ServiceDeregisterOpts(c.r.ID, (&api.QueryOptions{}).WithContext(dctx)); err != nil {
		c.log.Warn("deregister failed", "error", err)
		return
	}
	c.log.Info("deregistered")
}
