package eureka

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hudl/fargo"
	logging "github.com/op/go-logging"

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
	// deltaSeen is the last delta's instances, decoded (Run's alone).
	deltaSeen decoded

	keeper *keepalive.Keeper
	// copies are the copies renewed, by instanceKey.String().
	copies *keepalive.Copies[registration]
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
	}
	c.conn.UseJson = true
	// fargo creates a field of the connection on its first request
	// (SelectServiceURL); doing it here, before renewals run in parallel,
	// keeps that from being a data race. It dials nothing.
	c.conn.SelectServiceURL()
	c.keeper = keepalive.New(cfg.RenewalInterval, cfg.RenewalWorkers, env.Logger, c.renew)
	c.copies = keepalive.NewCopies[registration](c.keeper)
	c.metrics.keptFunc(c.keeper.Len)
	return c, nil
}

// Close stops renewing the copies; with remove it cancels them first.
// Without, they expire after their lease unless a peer renews them.
func (c *Connector) Close(ctx context.Context, remove bool) error {
	held := c.copies.Close()
	if !remove {
		return nil
	}
	var errs []error
	for _, k := range held {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("eureka: close: %w", ctx.Err()))
			break
		}
		if err := c.cancel(k.Reg.instance); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var _ registrysync.Connector = (*Connector)(nil)
