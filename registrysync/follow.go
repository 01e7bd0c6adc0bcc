package registrysync

import (
	"context"
	"errors"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

// follow runs src's connector until ctx ends, applying what it reports.
// Every RelistInterval the connector is built again, so that its first
// update, a complete listing, repairs whatever its watch missed. A source
// that cannot be reached reports nothing, and what it reported last
// stands (fail-static).
func (s *Syncer) follow(ctx context.Context, src *source) {
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: s.cfg.Engine.RetryInterval}
	for ctx.Err() == nil {
		err := s.followOnce(ctx, src)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.sourceError(src, "run", err)
			backoff.Wait(ctx)
			continue
		}
		backoff.Reset()
		s.log.Debug("listing the source again", "registry", src.reg.Name)
	}
}

// errRelist ends a connector's run when it is time to list again.
var errRelist = errors.New("time to list the source again")

// followOnce runs one connector instance until ctx ends, it is time to
// list again, or it fails.
func (s *Syncer) followOnce(ctx context.Context, src *source) error {
	conn, release, err := s.open(src.reg, "source")
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if d := s.cfg.Engine.RelistInterval; d > 0 {
		t := time.AfterFunc(d, func() { cancel(errRelist) })
		defer t.Stop()
	}
	updates := make(chan Update, 16)
	done := make(chan error, 1)
	go func() { done <- conn.Run(runCtx, updates) }()
	for {
		select {
		case u := <-updates:
			s.apply(src, u)
		case err := <-done:
		sent: // what it sent before it returned
			for {
				select {
				case u := <-updates:
					s.apply(src, u)
				default:
					break sent
				}
			}
			closeCtx, closeCancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
			release(closeCtx, false)
			closeCancel()
			if err == nil && runCtx.Err() == nil {
				err = errors.New("the source's run returned before its context ended")
			}
			return err
		}
	}
}

// sourceError records a source's failure.
func (s *Syncer) sourceError(src *source, op string, err error) {
	s.metrics.errors.WithLabelValues(src.reg.Name, op).Inc()
	s.mu.Lock()
	changed := src.lastErr != err.Error()
	src.lastErr = err.Error()
	s.mu.Unlock()
	if changed {
		s.log.Error("source failed", "registry", src.reg.Name, "op", op, "error", err)
	}
}

// errEmptyListing is what rule 7 makes of an empty listing of a
// registry known to hold instances: broken (restarted empty, the wrong
// namespace), not empty.
var errEmptyListing = errors.New("a complete listing without any instance, of a registry known to hold some: ignored")

// apply takes in what src reported and marks the flows' services that
// changed.
func (s *Syncer) apply(src *source, u Update) {
	now := time.Now()
	s.mu.Lock()
	var err error
	switch {
	case !u.Complete:
		for _, g := range u.Groups {
			k := groupKeyOf(g.Key)
			if len(g.Instances) == 0 {
				delete(src.groups, k)
			} else {
				src.groups[k] = g
			}
			for _, f := range src.flows {
				f.mark(k.service, now)
			}
		}
	case countInstances(u.Groups) > 0:
		s.completeLocked(src, u.Groups, now)
	case countKnown(src.groups) > 0:
		err = errEmptyListing
	default:
		// Whether the registry is known to hold instances, its copies
		// say: until every target was listed, the listing waits.
		src.emptyPending = true
		err = s.settleEmptyLocked(src, now)
	}
	s.mu.Unlock()
	if err != nil {
		s.sourceError(src, "list", err)
	}
	s.signal()
}

// settleEmptyLocked decides on an empty complete listing of src once
// every target is listed: copies of its instances mean it held some
// (errEmptyListing); none, that it is empty indeed. s.mu is held.
func (s *Syncer) settleEmptyLocked(src *source, now time.Time) error {
	if !src.emptyPending {
		return nil
	}
	for _, t := range s.targets {
		if !t.listed {
			return nil
		}
	}
	src.emptyPending = false
	if s.copiesFromLocked(src.reg.Name) > 0 {
		return errEmptyListing
	}
	// What the source sent since its empty listing (an app registered
	// meanwhile) is what it holds now: its watch will not send it again.
	since := make([]Group, 0, len(src.groups))
	for _, g := range src.groups {
		since = append(since, g)
	}
	s.completeLocked(src, since, now)
	return nil
}

// completeLocked takes a complete listing of src in. s.mu is held.
func (s *Syncer) completeLocked(src *source, groups []Group, now time.Time) {
	src.emptyPending = false
	src.groups = make(map[groupKey]Group, len(groups))
	for _, g := range groups {
		k := groupKeyOf(g.Key)
		if prev, ok := src.groups[k]; ok {
			g.Instances = append(append([]*registry.Instance(nil), prev.Instances...), g.Instances...)
		}
		src.groups[k] = g
	}
	first := !src.complete
	src.complete, src.lastComplete, src.lastErr = true, now, ""
	s.metrics.complete.WithLabelValues(src.reg.Name).Set(1)
	for _, f := range src.flows {
		f.markAll(now)
	}
	if first {
		s.log.Info("source listed completely", "registry", src.reg.Name, "services", len(src.groups), "instances", countKnown(src.groups))
		if s.allCompleteLocked() {
			// The deletions every flow held until now may go.
			for _, f := range s.flows {
				f.markAll(now)
			}
		}
	}
}

func countInstances(groups []Group) int {
	n := 0
	for _, g := range groups {
		n += len(g.Instances)
	}
	return n
}

func countKnown(groups map[groupKey]Group) int {
	n := 0
	for _, g := range groups {
		n += len(g.Instances)
	}
	return n
}

// copiesFromLocked counts the copies of origin's instances the targets
// were last seen to hold; s.mu is held.
func (s *Syncer) copiesFromLocked(origin string) int {
	n := 0
	for _, t := range s.targets {
		for _, list := range t.copies {
			for _, c := range list {
				if c.Metadata[MetaOrigin] == origin {
					n++
				}
			}
		}
	}
	return n
}

// allCompleteLocked reports whether every source was listed completely
// since the process started (rule 7: until then nothing is deleted);
// s.mu is held.
func (s *Syncer) allCompleteLocked() bool {
	for _, src := range s.sources {
		if !src.complete {
			return false
		}
	}
	return true
}
