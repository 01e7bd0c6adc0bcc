package consul

import (
	"context"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
)

// leadRetry is the pause after a failed campaign (store unreachable).
const leadRetry = time.Second

// leadChecks runs the checks while this replica leads the election for
// the namespace's checks, campaigning again whenever leadership is lost,
// until ctx ends. Without an Elector this replica always leads.
func (s *Server) leadChecks(ctx context.Context) {
	el := s.elector
	if el == nil {
		s.leading.Store(true)
		defer s.leading.Store(false)
		s.runChecks(ctx)
		return
	}
	name := "consul-checks/" + s.opts.Namespace
	for ctx.Err() == nil {
		lead, resign, err := el.Lead(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("campaign to run the checks failed; retrying", "error", err)
			wait.Sleep(ctx, leadRetry)
			continue
		}
		if s.shared {
			s.log.Info("leading: this replica runs the checks", "election", name)
		}
		s.leading.Store(true)
		s.runChecks(lead)
		s.leading.Store(false)
		resign()
		if ctx.Err() == nil {
			s.log.Warn("lost the lead; another replica runs the checks, campaigning again", "election", name)
		}
	}
}
