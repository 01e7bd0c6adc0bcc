package mesh

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registrysync"
)

// Elector elects the replica of a syncer that writes, through the
// control API's elections (control.Client.Lead): the mesh store's
// election, shared by every registry-adapter replica over etcd.
type Elector struct {
	client          *control.Client
	name, candidate string
	ttl             time.Duration
}

// NewElector campaigns in election name as candidate through the control
// API cfg names; a candidate that stops campaigning (kill -9) loses the
// lead ttl after its last campaign.
func NewElector(cfg *Config, name, candidate string, ttl time.Duration, log *slog.Logger) (*Elector, error) {
	token, err := control.TokenFrom(cfg.Token, cfg.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("mesh: elector: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	client, err := control.NewClient(cfg.URL, control.WithToken(token), control.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("mesh: elector: %w", err)
	}
	return &Elector{client: client, name: name, candidate: candidate, ttl: ttl}, nil
}

// Lead returns once this replica leads.
func (e *Elector) Lead(ctx context.Context) (context.Context, func(), error) {
	return e.client.Lead(ctx, e.name, e.candidate, e.ttl)
}

var _ registrysync.Elector = (*Elector)(nil)
