package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/registrysync"
)

// Kind is the registry type's name in registrysync's configuration.
const Kind = "zookeeper"

func init() {
	registrysync.Register(registrysync.Kind{
		Name:      Kind,
		NewConfig: func() registrysync.Config { return NewConfig() },
		New:       New,
	})
}

// Connector is a ZooKeeper registry as registrysync sees it. Its source
// and its sink each have a connection (and a session) of their own: the
// sink's session holds the copies.
type Connector struct {
	cfg     *Config
	env     registrysync.Env
	logger  *slog.Logger
	metrics *metrics
	// dialer dials the connections (nil: net.DialTimeout); tests set it
	// to learn the sink's session and expire it.
	dialer zk.Dialer

	// life ends with Close: it stops the sources' Run calls and the
	// sink's keeper.
	life   context.Context
	end    context.CancelFunc
	closed <-chan struct{}
	sink   sink
}

// New builds a connector from a validated *Config; nothing is dialled
// until Run, Owned, Put or Delete.
func New(cfg registrysync.Config, env registrysync.Env) (registrysync.Connector, error) {
	return newConnector(cfg, env)
}

func newConnector(cfg registrysync.Config, env registrysync.Env) (*Connector, error) {
	zc, ok := cfg.(*Config)
	if !ok {
		return nil, fmt.Errorf("zookeeper: configuration of type %T, want *zookeeper.Config", cfg)
	}
	if err := zc.Validate(); err != nil {
		return nil, fmt.Errorf("zookeeper: %w", err)
	}
	if env.Owner == "" {
		return nil, errors.New("zookeeper: the syncer's id (Env.Owner) is empty")
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	life, end := context.WithCancel(context.Background())
	return &Connector{
		cfg: zc, env: env, logger: logger,
		metrics: newMetrics(env.Metrics, env.Name),
		life:    life, end: end, closed: life.Done(),
		sink: newSink(),
	}, nil
}

// Close implements registrysync.Connector. It ends the source's Run
// calls. With remove set, the sink's session is closed, and the server
// deletes every copy with it at once; without, the session is abandoned
// (its connection cut, not closed), so the copies stay until the
// session times out, for a peer to take over without a gap.
func (c *Connector) Close(ctx context.Context, remove bool) error {
	c.end()
	s := &c.sink
	s.mu.Lock()
	cl := s.cl
	s.mu.Unlock()
	if cl == nil {
		return nil
	}
	// Writes under way finish first, and no pass of the keeper runs
	// after the session is gone.
	s.writeMu.Lock()
	cl.close(!remove)
	s.writeMu.Unlock()
	select {
	case <-s.keeperDone:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("zookeeper: close: %w", ctx.Err())
	}
}

// Interface guards.
var (
	_ registrysync.Connector = (*Connector)(nil)
	_ registrysync.Config    = (*Config)(nil)
)
