package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/internal/keepalive"
)

func init() {
	registrysync.Register(registrysync.Kind{
		Name:      "consul",
		NewConfig: func() registrysync.Config { return NewConfig() },
		New: func(cfg registrysync.Config, env registrysync.Env) (registrysync.Connector, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("consul: configuration of type %T", cfg)
			}
			return New(c, env)
		},
	})
}

// Connector is a Consul agent, and the catalog behind it, as registrysync
// sees them.
type Connector struct {
	cfg     Config
	env     registrysync.Env
	client  *api.Client
	metrics *metrics
	keeper  *keepalive.Keeper

	// dcChecked is set once the agent's datacenter was found to be the
	// configured one (the sink writes nothing before).
	dcMu      sync.Mutex
	dcChecked bool

	// copies are the copies registered and renewed, by service ID.
	copies *keepalive.Copies[registration]

	mu sync.Mutex
	// withheld are copies not registered while their instance cannot be
	// selected (DownAs absent), by service ID: Owned reports them, as
	// their absence is how Consul carries them.
	withheld map[string]*registry.Instance
}

// New builds a connector from a validated configuration. Nothing is
// dialled until Run, Owned or Put.
func New(cfg *Config, env registrysync.Env) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("consul: %w", err)
	}
	if env.Owner == "" {
		return nil, errors.New("consul: the syncer's owner id is empty")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Blocking queries hold a connection each: keep enough idle ones
	// for the service watches, and bound every answer's wait.
	tr.MaxIdleConnsPerHost = 256
	tr.ResponseHeaderTimeout = cfg.Wait + cfg.Wait/16 + cfg.Timeout
	client, err := api.NewClient(&api.Config{Address: cfg.Address, Scheme: cfg.Scheme, Token: cfg.Token, Transport: tr})
	if err != nil {
		return nil, fmt.Errorf("consul: client: %w", err)
	}
	c := &Connector{
		cfg: *cfg, env: env, client: client, metrics: newMetrics(env),
		withheld: map[string]*registry.Instance{},
	}
	c.keeper = keepalive.New(cfg.renewEvery(), cfg.RenewalWorkers, env.Logger, c.renew)
	c.copies = keepalive.NewCopies[registration](c.keeper)
	c.metrics.gauges(c.keeper.Len, func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.withheld)
	})
	return c, nil
}

// Close stops passing the copies' checks; with remove it deregisters them
// first. Without, each lapses after its TTL and is removed
// DeregisterAfter later, unless a peer takes it over.
func (c *Connector) Close(ctx context.Context, remove bool) error {
	held := c.copies.Close()
	if !remove {
		return nil
	}
	var errs []error
	for id := range held {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("consul: close: %w", ctx.Err()))
			break
		}
		if err := c.deregister(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// query is the options of a request that does not block.
func (c *Connector) query(ctx context.Context) (*api.QueryOptions, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	return (&api.QueryOptions{}).WithContext(ctx), cancel
}

// statusIs reports whether err is Consul's answer with an HTTP status.
func statusIs(err error, code int) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == code
}

var _ registrysync.Connector = (*Connector)(nil)
