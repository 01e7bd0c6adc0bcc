package eureka

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/hudl/fargo"
	logging "github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/internal/keepalive"
)

func init() {
	// fargo logs every request's URL, basic-auth password included, at
	// INFO and NOTICE, and at ERROR when one fails: its log stays off and
	// the connector logs what matters through slog, without credentials.
	logging.SetLevel(logging.CRITICAL, "fargo")
	registrysync.Register(registrysync.Kind{
		Name:      "eureka",
		NewConfig: func() registrysync.Config { return NewConfig() },
		New: func(cfg registrysync.Config, env registrysync.Env) (registrysync.Connector, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("eureka: configuration of type %T", cfg)
			}
			return New(c, env)
		},
	})
}

// Connector is a Eureka server as registrysync sees it.
type Connector struct {
	cfg     Config
	env     registrysync.Env
	conn    fargo.EurekaConnection
	http    *http.Client
	metrics *metrics

	keeper *keepalive.Keeper

	mu     sync.Mutex
	copies map[instanceKey]*kept
	closed bool
}

// kept is a copy the sink renews.
type kept struct {
	reg registration
	// put is set for a copy this process wrote: one the server has lost
	// (a renewal answered 404) is registered again. A copy only found in
	// the registry (adopted by Owned after a restart or a takeover) is
	// renewed but not brought back once gone: the engine puts it again
	// if it should still exist, and a standby that lists copies never
	// revives one its peer removed.
	put bool
	// want is the instance as last put, which Owned reports while the
	// registry still holds what was written for it.
	want *registry.Instance
}

// New builds a connector from a validated configuration. Nothing is
// dialled until Run, Owned or Put.
func New(cfg *Config, env registrysync.Env) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("eureka: %w", err)
	}
	if env.Owner == "" {
		return nil, errors.New("eureka: the syncer's owner id is empty")
	}
	c := &Connector{
		cfg:     *cfg,
		env:     env,
		conn:    fargo.NewConn(cfg.serviceURLs()...),
		http:    &http.Client{Timeout: cfg.Timeout},
		metrics: newMetrics(env),
		copies:  map[instanceKey]*kept{},
	}
	c.conn.UseJson = true
	// fargo creates a field of the connection on its first request
	// (SelectServiceURL); doing it here, before renewals run in parallel,
	// keeps that from being a data race. It dials nothing.
	c.conn.SelectServiceURL()
	c.keeper = keepalive.New(cfg.RenewalInterval, cfg.RenewalWorkers, env.Logger, c.renew)
	c.metrics.keptFunc(c.keeper.Len)
	return c, nil
}

// Close stops renewing the copies; with remove it cancels them first.
// Without, they expire after their lease unless a peer renews them.
func (c *Connector) Close(ctx context.Context, remove bool) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.keeper.Stop()
	if !remove {
		return nil
	}
	var errs []error
	c.mu.Lock()
	held := make([]*kept, 0, len(c.copies))
	for _, k := range c.copies {
		held = append(held, k)
	}
	c.mu.Unlock()
	for _, k := range held {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("eureka: close: %w", ctx.Err()))
			break
		}
		if err := c.cancel(k.reg.instance); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var _ registrysync.Connector = (*Connector)(nil)
