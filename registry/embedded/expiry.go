package embedded

import (
	"context"
	"errors"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// expiryLoop removes instances whose lease ran out, unless so many lapse in
// one pass that the cause is more likely our network than their death
// (self-preservation, as in Eureka).
func (s *Store) expiryLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Expiry.Interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.expireOnce()
		}
	}
}

func (s *Store) expireOnce() {
	now := s.opts.Now()
	if now.Sub(s.started) < s.opts.Expiry.StartupGrace {
		return
	}
	expired, leased := s.state.Expired(now)
	o := s.opts.Expiry
	if o.SelfPreservationThreshold > 0 && leased >= o.SelfPreservationMinLeases &&
		float64(len(expired)) > o.SelfPreservationThreshold*float64(leased) {
		if !s.selfPreserving.Swap(true) {
			s.log.Warn("self-preservation: too many leases lapsed at once, expiry paused",
				"lapsed", len(expired), "leased", leased, "threshold", o.SelfPreservationThreshold)
		}
		s.metrics.selfPreservation.Set(1)
		return
	}
	if s.selfPreserving.Swap(false) {
		s.log.Info("self-preservation ended, expiry resumed", "lapsed", len(expired), "leased", leased)
	}
	s.metrics.selfPreservation.Set(0)
	for _, key := range expired {
		gone, err := s.remove(context.Background(), key, registry.ReasonExpired)
		switch {
		case err == nil && gone != nil:
			s.metrics.expired.Inc()
		case err == nil: // renewed after the pass looked
		case errors.Is(err, registry.ErrNotFound):
		default:
			s.log.Error("expire instance", "instance", key.String(), "error", err)
			return
		}
	}
}
