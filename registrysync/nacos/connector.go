package nacos

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

func init() {
	registrysync.Register(registrysync.Kind{
		Name:      "nacos",
		NewConfig: func() registrysync.Config { return NewConfig() },
		New:       New,
	})
}

// Connector is a Nacos registry as registrysync sees it: its source and
// its sink use connections of their own.
type Connector struct {
	source *source
	sink   *sink

	// stop ends a running source when the connector closes.
	stop     chan struct{}
	stopOnce sync.Once
}

// New builds a connector from a validated *Config; nothing is dialled
// until Run, Owned or Put.
func New(cfg registrysync.Config, env registrysync.Env) (registrysync.Connector, error) {
	c, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("nacos: configuration is a %T, want *nacos.Config", cfg)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("nacos: %w", err)
	}
	m, err := newMetrics(env.Name, env.Metrics)
	if err != nil {
		return nil, err
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Connector{
		source: newSource(c, log, m),
		sink:   newSink(c, env.Owner, m),
		stop:   make(chan struct{}),
	}, nil
}

// Run implements registrysync.Source.
func (c *Connector) Run(ctx context.Context, updates chan<- registrysync.Update) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return c.source.run(ctx, updates)
}

// Owned implements registrysync.Sink.
func (c *Connector) Owned(ctx context.Context) ([]*registry.Instance, error) {
	return c.sink.owned(ctx)
}

// Put implements registrysync.Sink.
func (c *Connector) Put(ctx context.Context, inst *registry.Instance) error {
	return c.sink.put(ctx, inst)
}

// Delete implements registrysync.Sink.
func (c *Connector) Delete(ctx context.Context, inst *registry.Instance) error {
	return c.sink.delete(ctx, inst)
}

// Close implements registrysync.Connector. Nacos keeps an ephemeral
// instance only while the connection that registered it lives, so the
// copies go with the sink's connections either way; with remove they are
// deregistered first, without waiting for the server to see the
// connections end. A running source stops.
func (c *Connector) Close(ctx context.Context, remove bool) error {
	c.stopOnce.Do(func() { close(c.stop) })
	return c.sink.close(ctx, remove)
}

var (
	_ registrysync.Connector = (*Connector)(nil)
	_ registrysync.Config    = (*Config)(nil)
)
