package v2

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// maintainLoop renews the leases of connection-bound instances, resends
// unacknowledged pushes and probes (then ejects) silent connections.
func (s *Server) maintainLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.tick())
	defer t.Stop()
	lastRenew := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.mu.Lock()
			conns := make([]*conn, 0, len(s.conns))
			for _, c := range s.conns {
				conns = append(conns, c)
			}
			s.mu.Unlock()
			if now.Sub(lastRenew) >= s.opts.ConnectionLease/3 {
				lastRenew = now
				s.renewLeases(ctx, conns)
			}
			for _, c := range conns {
				if _, dropped := c.out.retry(now, s.opts.AckTimeout, s.opts.PushRetries); dropped > 0 {
					s.log.Warn("push not acknowledged, giving up", "connection_id", c.id, "messages", dropped)
				}
				s.checkAlive(c, now)
			}
		}
	}
}

// renewLeases keeps connection-bound instances alive in the store. An
// instance someone else removed (an operator, another protocol) is
// forgotten rather than resurrected.
func (s *Server) renewLeases(ctx context.Context, conns []*conn) {
	for _, c := range conns {
		if c.closed.Load() {
			continue
		}
		c.mu.Lock()
		for sid, keys := range c.published {
			kept := keys[:0]
			for _, k := range keys {
				err := s.opts.Store.Renew(ctx, k)
				if errors.Is(err, registry.ErrNotFound) {
					continue
				}
				if err != nil {
					s.log.Error("renew connection instance", "instance", k.String(), "error", err)
				}
				kept = append(kept, k)
			}
			if len(kept) == 0 {
				delete(c.published, sid)
			} else {
				c.published[sid] = kept
			}
		}
		c.mu.Unlock()
	}
}

// checkAlive probes a connection silent for KeepAlive with a
// ClientDetectionRequest and cuts it when the probe goes unanswered for
// ProbeTimeout: its instances are removed and subscribers told.
func (s *Server) checkAlive(c *conn, now time.Time) {
	if c.closed.Load() {
		return
	}
	idle := c.idleSince()
	c.mu.Lock()
	probe := c.probeSince
	switch {
	case !probe.IsZero() && idle.After(probe):
		c.probeSince = time.Time{} // answered
		c.mu.Unlock()
		return
	case probe.IsZero() && now.Sub(idle) >= s.opts.KeepAlive:
		c.probeSince = now
		c.mu.Unlock()
		if !c.streaming.Load() {
			// Without a stream it cannot be probed (nor pushed to).
			s.eject(c, "no stream and idle")
			return
		}
		c.out.put(&message{key: "detect", typ: typeClientDetection, build: func(id string) ([]byte, error) {
			return json.Marshal(clientDetectionRequest{RequestID: id, Headers: map[string]string{}, Module: "internal"})
		}})
		return
	case !probe.IsZero() && now.Sub(probe) >= s.opts.ProbeTimeout:
		c.mu.Unlock()
		s.eject(c, "keep-alive probe unanswered")
		return
	}
	c.mu.Unlock()
}

func (s *Server) eject(c *conn, reason string) {
	s.log.Info("ejecting silent connection", "connection_id", c.id, "reason", reason)
	s.closeConn(c, reason)
	if s.tracker != nil {
		s.tracker.cut(c.remote)
	}
}
