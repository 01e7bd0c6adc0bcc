package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

func init() {
	registrysync.Register(registrysync.Kind{
		Name:      "mesh",
		NewConfig: func() registrysync.Config { return NewConfig() },
		New: func(cfg registrysync.Config, env registrysync.Env) (registrysync.Connector, error) {
			return New(cfg.(*Config), env)
		},
	})
}

// Connector is the mesh registry as registrysync sees it.
type Connector struct {
	cfg    *Config
	env    registrysync.Env
	client *control.Client
	log    *slog.Logger

	mu sync.Mutex
	// kept are the copies the sink keeps alive, by their key.
	kept   map[registry.InstanceKey]*registry.Instance
	closed bool
	// stop ends the renewals, which run from the first Put or Adopt
	// until Close; renewed is closed once they stopped.
	stop    context.CancelFunc
	renewed chan struct{}
	// nudge asks for a round of renewals now (after an adoption).
	nudge chan struct{}
}

// New builds a connector; nothing is dialled until Run, Owned or Put.
func New(cfg *Config, env registrysync.Env) (*Connector, error) {
	token, err := control.TokenFrom(cfg.Token, cfg.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	log := env.Logger
	if log == nil {
		log = slog.Default()
	}
	client, err := control.NewClient(cfg.URL, control.WithToken(token), control.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("mesh: %w", err)
	}
	return &Connector{cfg: cfg, env: env, client: client, log: log,
		kept: map[registry.InstanceKey]*registry.Instance{}, nudge: make(chan struct{}, 1)}, nil
}

// Close stops renewing the copies; with remove it deletes every copy of
// this syncer's first. Without, they expire LeaseDuration after their
// last renewal unless a peer adopts them.
func (c *Connector) Close(ctx context.Context, remove bool) error {
	c.mu.Lock()
	c.closed = true
	stop, renewed := c.stop, c.renewed
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-renewed
	}
	if !remove {
		return nil
	}
	owned, err := c.Owned(ctx)
	if err != nil {
		return fmt.Errorf("mesh: remove the copies: %w", err)
	}
	var errs []error
	for _, inst := range owned {
		if err := c.Delete(ctx, inst); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var (
	_ registrysync.Connector = (*Connector)(nil)
	_ registrysync.Adopter   = (*Connector)(nil)
)
