package registrysync

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

// term is one leadership term, the writer: it builds a sink for every
// target, lists the copies each holds, then runs passes whenever a
// source reports a change, and a whole pass over fresh listings every
// AntiEntropyInterval (rule 5), until lead ends. Then it closes the sinks
// (removing the copies only when the process stops and
// RemoveCopiesOnStop says so) so that the next leader takes over.
func (s *Syncer) term(ctx, lead context.Context) {
	s.log.Info("leading: this replica writes")
	s.leading.Store(true)
	s.metrics.leader.Set(1)
	releases := map[string]func(context.Context, bool){}
	for name, t := range s.targets {
		conn, release, err := s.open(t.reg, "sink")
		if err != nil {
			s.log.Error("cannot write into the registry", "registry", name, "error", err)
			s.metrics.errors.WithLabelValues(name, "open").Inc()
			continue
		}
		s.mu.Lock()
		t.sink = conn
		s.mu.Unlock()
		releases[name] = release
	}
	defer s.endTerm(ctx, releases)

	ticker := time.NewTicker(s.cfg.Engine.AntiEntropyInterval)
	defer ticker.Stop()
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: s.cfg.Engine.RetryInterval}
	unlisted := maps.Clone(s.targets)
	for lead.Err() == nil {
		for name, t := range unlisted {
			if t.sink == nil {
				delete(unlisted, name) // it could not be built: nothing to list
				continue
			}
			if err := s.listTarget(lead, t); err == nil {
				delete(unlisted, name)
			}
		}
		s.passes(lead)
		var retry <-chan time.Time
		if len(unlisted) > 0 {
			retry = time.After(backoff.Next())
		} else {
			backoff.Reset()
		}
		select {
		case <-lead.Done():
		case <-s.wake:
		case <-retry:
		case <-ticker.C:
			unlisted = maps.Clone(s.targets)
			s.mu.Lock()
			now := time.Now()
			for _, f := range s.flows {
				f.markAll(now)
			}
			s.mu.Unlock()
		}
	}
}

// endTerm closes this term's sinks, removing the copies when the process
// stops with RemoveCopiesOnStop, and forgets what they kept alive.
func (s *Syncer) endTerm(ctx context.Context, releases map[string]func(context.Context, bool)) {
	remove := ctx.Err() != nil && s.opts.RemoveCopiesOnStop
	if ctx.Err() == nil {
		s.log.Warn("leadership lost: this replica stops writing")
	} else if remove {
		s.log.Info("stopping: removing this syncer's copies")
	} else {
		s.log.Info("stopping: copies are left for a peer to take over, or to expire")
	}
	dctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, release := range releases {
		wg.Go(func() { release(dctx, remove) })
	}
	wg.Wait()
	s.mu.Lock()
	for _, t := range s.targets {
		t.sink, t.listed = nil, false
		t.alive = map[copyKey]string{}
	}
	s.mu.Unlock()
	s.leading.Store(false)
	s.metrics.leader.Set(0)
}

// listTarget lists the copies t holds of this syncer's. Only copies
// carrying this syncer's owner marker are ever looked at, whatever the
// sink returns (rule 2).
func (s *Syncer) listTarget(ctx context.Context, t *target) error {
	list, err := t.sink.Owned(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.metrics.errors.WithLabelValues(t.reg.Name, "owned").Inc()
			s.log.Warn("listing the copies failed; trying again", "registry", t.reg.Name, "error", err)
		}
		return err
	}
	copies := map[copyKey][]*registry.Instance{}
	for _, c := range list {
		if c.Metadata[MetaOwner] != s.cfg.ID {
			continue
		}
		k := keyOf(c)
		copies[k] = append(copies[k], c)
	}
	now := time.Now()
	var empty []*source
	s.mu.Lock()
	t.copies, t.listed = copies, true
	for _, f := range s.flows {
		if f.to == t.reg.Name {
			f.markAll(now)
		}
	}
	for _, src := range s.sources {
		if err := s.settleEmptyLocked(src, now); err != nil {
			empty = append(empty, src)
		}
	}
	s.mu.Unlock()
	for _, src := range empty {
		s.sourceError(src, "list", errEmptyListing)
	}
	return nil
}

// passes runs a pass for every flow with work whose target is listed.
func (s *Syncer) passes(ctx context.Context) {
	for _, f := range s.flows {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		t := s.targets[f.to]
		ready := t.listed && t.sink != nil && (!f.dirtyAll.IsZero() || len(f.dirty) > 0)
		s.mu.Unlock()
		if ready {
			s.pass(ctx, f, t)
		}
	}
}

// RecordError is a record a flow could not copy, or a write that failed.
type RecordError struct {
	Time time.Time `json:"time"`
	// Record is "service/id".
	Record string `json:"record"`
	// Op is transform, record (the copy is invalid), collision, put,
	// delete or adopt.
	Op    string `json:"op"`
	Error string `json:"error"`
}

// maxRecordErrors bounds the errors a flow's status keeps.
const maxRecordErrors = 20

// recordError reports a record of f that was not copied, or a write that
// failed: a log line naming the pair and the record (once per record and
// error), the error metric under the registry at fault, and the status.
func (s *Syncer) recordError(f *flow, key copyKey, op, registryName string, err error) {
	s.metrics.errors.WithLabelValues(registryName, op).Inc()
	e := RecordError{Time: time.Now(), Record: key.String(), Op: op, Error: err.Error()}
	s.mu.Lock()
	repeated := false
	for _, prev := range f.errs {
		repeated = repeated || prev.Record == e.Record && prev.Op == e.Op && prev.Error == e.Error
	}
	f.errs = append(f.errs, e)
	if len(f.errs) > maxRecordErrors {
		f.errs = f.errs[len(f.errs)-maxRecordErrors:]
	}
	s.mu.Unlock()
	if !repeated {
		s.log.Warn("record not copied", "pair", fmt.Sprintf("pairs[%d]", f.pair), "flow", f.name(), "record", e.Record, "op", op, "error", err)
	}
}
