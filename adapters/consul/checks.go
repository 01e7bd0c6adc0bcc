package consul

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// checkTick is how often the check loop looks for expired TTLs and due
// probes. One loop over all checks costs far less than a timer per check
// when thousands of services heartbeat.
const checkTick = 250 * time.Millisecond

// errStaleCheck aborts a check write whose check was redefined or removed
// since the writer looked.
var errStaleCheck = errors.New("check changed meanwhile")

// freshHeartbeatError aborts a TTL expiry when the store holds a heartbeat
// that keeps the check alive: one another replica recorded, possibly
// after a pass this replica saw.
type freshHeartbeatError struct{ at time.Time }

func (e *freshHeartbeatError) Error() string {
	return "check heartbeat at " + e.at.Format(time.RFC3339Nano) + " keeps it alive"
}

// checkWrite is a check state to store.
type checkWrite struct {
	id, defKey, status, output string
	key                        registry.InstanceKey
	// heartbeat, when set, is recorded if newer than the stored one.
	heartbeat time.Time
	// expiry marks a TTL expiry: it is dropped if the store holds a
	// heartbeat that keeps the check alive.
	expiry bool
}

// probeJob is a due HTTP or TCP check.
type probeJob struct {
	id     string
	defKey string
	rec    checkRecord
}

// runChecks drives TTL expiry, HTTP/TCP probes and the reaping of services
// critical for too long, while this replica leads (until lead ends); then
// it waits for the probes in flight, which lead's end cancels.
func (s *Server) runChecks(lead context.Context) {
	ticker := time.NewTicker(checkTick)
	defer ticker.Stop()
	s.agent.resetProbing()
	nextReap := time.Now().Add(s.opts.CheckReapInterval)
	for {
		select {
		case <-lead.Done():
			s.probes.Wait()
			return
		case now := <-ticker.C:
			reap := !now.Before(nextReap)
			if reap {
				nextReap = now.Add(s.opts.CheckReapInterval)
			}
			s.checkPass(lead, now, reap)
		}
	}
}

// runOutputs writes deferred output-only changes, on every replica: the
// replica that received a TTL update holds its pending output.
func (s *Server) runOutputs(ctx context.Context) {
	ticker := time.NewTicker(checkTick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			for _, w := range s.agent.dueOutputs(now, s.opts.CheckUpdateInterval) {
				s.writeCheck(ctx, w)
			}
		}
	}
}

// dueOutputs takes the pending outputs that may be written now.
func (a *agentState) dueOutputs(now time.Time, interval time.Duration) []checkWrite {
	a.mu.Lock()
	defer a.mu.Unlock()
	var writes []checkWrite
	for id, lc := range a.checks {
		if lc.pendingOutput != nil && now.Sub(lc.lastWrite) >= interval {
			writes = append(writes, checkWrite{id: id, defKey: lc.defKey, key: lc.key,
				status: lc.rec.Status, output: *lc.pendingOutput})
			lc.pendingOutput = nil
		}
	}
	return writes
}

// resetProbing forgets probes a previous leadership left unfinished.
func (a *agentState) resetProbing() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, lc := range a.checks {
		lc.probing = false
	}
}

// checkPass does one round of the check loop.
func (s *Server) checkPass(ctx context.Context, now time.Time, reap bool) {
	var writes []checkWrite
	var probes []probeJob
	var reaps []registry.InstanceKey
	a := s.agent
	a.mu.Lock()
	for _, ls := range a.services {
		reaped := false
		for id, lc := range ls.checks {
			switch lc.rec.Type {
			case typeTTL:
				if !lc.ttlExpired && now.After(lc.ttlDeadline) {
					lc.ttlExpired = true
					lc.pendingOutput = nil
					writes = append(writes, checkWrite{id: id, defKey: lc.defKey, key: lc.key, expiry: true,
						status: statusCritical, output: ttlExpiredOutput(lc.lastOutput)})
					continue
				}
			case typeHTTP, typeTCP:
				if !lc.probing && !now.Before(lc.nextRun) {
					lc.probing = true
					lc.nextRun = now.Add(lc.rec.Interval)
					probes = append(probes, probeJob{id: id, defKey: lc.defKey, rec: lc.rec})
				}
			}
			if reap && !reaped && lc.rec.DeregisterAfter > 0 && lc.rec.Status == statusCritical &&
				!lc.criticalSince.IsZero() && now.Sub(lc.criticalSince) > max(lc.rec.DeregisterAfter, s.opts.MinDeregisterAfter) {
				reaped = true
				reaps = append(reaps, ls.key)
			}
		}
	}
	a.mu.Unlock()

	for _, w := range writes {
		s.writeCheck(ctx, w)
	}
	for _, job := range probes {
		s.probes.Add(1)
		go s.runProbe(ctx, job)
	}
	for _, key := range reaps {
		_, err := s.store.Deregister(ctx, key)
		switch {
		case err == nil:
			s.met.reaped.Inc()
			s.log.Info("deregistered service critical past DeregisterCriticalServiceAfter", "service_id", key.ID, "service", key.ServiceKey)
		case errors.Is(err, registry.ErrNotFound), ctx.Err() != nil:
		default:
			s.log.Error("reap critical service", "service_id", key.ID, "error", err)
		}
	}
}

// ttlExpiredOutput is Consul's output for an expired TTL check.
func ttlExpiredOutput(last string) string {
	const prefix = "TTL expired"
	if last == "" {
		return prefix
	}
	return fmt.Sprintf("%s (last output before timeout follows): %s", prefix, last)
}

// writeCheck stores a check's new state; a check redefined or removed
// meanwhile is left alone.
func (s *Server) writeCheck(ctx context.Context, w checkWrite) {
	_, err := s.storeCheckState(ctx, w)
	var fresh *freshHeartbeatError
	switch {
	case err == nil:
		s.agent.written(w.id, w.defKey, w.status, w.output, time.Now())
		if w.expiry {
			s.met.ttlExpiry.Inc()
		}
	case errors.As(err, &fresh):
		s.agent.keepAlive(w.id, w.defKey, fresh.at, time.Now())
	case errors.Is(err, errStaleCheck), errors.Is(err, registry.ErrNotFound), ctx.Err() != nil:
	default:
		s.log.Error("store check state", "check_id", w.id, "error", err)
	}
}

// storeCheckState writes one check's status and output into the instance.
func (s *Server) storeCheckState(ctx context.Context, w checkWrite) (*registry.Instance, error) {
	return s.store.Update(ctx, w.key, func(inst *registry.Instance) error {
		_, recs := readRecords(inst)
		found := false
		for _, c := range recs {
			if c.ID == w.id {
				if c.definitionKey() != w.defKey {
					return errStaleCheck
				}
				if w.expiry && time.Now().Before(beatDeadline(c.Heartbeat, c.TTL)) {
					return &freshHeartbeatError{at: c.Heartbeat}
				}
				c.Status, c.Output = w.status, w.output
				if w.heartbeat.After(c.Heartbeat) {
					c.Heartbeat = w.heartbeat
				}
				found = true
			}
		}
		if !found {
			return errStaleCheck
		}
		return writeChecks(inst, recs)
	})
}

// runProbe runs one HTTP or TCP check and records its result, applying
// SuccessBeforePassing and FailuresBeforeWarning/Critical as Consul does.
func (s *Server) runProbe(ctx context.Context, job probeJob) {
	defer s.probes.Done()
	select {
	case s.probeSlots <- struct{}{}:
	case <-ctx.Done():
		return
	}
	status, output := s.prober.probe(ctx, &job.rec)
	output = checkOutput(output)
	<-s.probeSlots
	if ctx.Err() != nil { // stopped or lost the lead: the result does not count
		return
	}
	s.met.probes.WithLabelValues(job.rec.Type, status).Inc()
	now := time.Now()
	a := s.agent
	a.mu.Lock()
	lc := a.checks[job.id]
	if lc == nil || lc.defKey != job.defKey {
		a.mu.Unlock()
		return
	}
	lc.probing = false
	status = lc.threshold(status)
	var w *checkWrite
	switch {
	case status != lc.rec.Status:
		lc.pendingOutput = nil
		w = &checkWrite{id: job.id, defKey: job.defKey, key: lc.key, status: status, output: output}
	case output != lc.rec.Output && now.Sub(lc.lastWrite) >= s.opts.CheckUpdateInterval:
		lc.pendingOutput = nil
		w = &checkWrite{id: job.id, defKey: job.defKey, key: lc.key, status: status, output: output}
	case output != lc.rec.Output:
		lc.pendingOutput = &output
	}
	a.mu.Unlock()
	if w != nil {
		s.writeCheck(ctx, *w)
	}
}

// threshold turns a probe result into the status to record, holding the
// previous status until enough successes or failures in a row were seen.
// The counters start at their thresholds, so the first result counts.
func (lc *localCheck) threshold(result string) string {
	warnAfter := lc.rec.FailuresBeforeWarning
	if warnAfter == 0 {
		warnAfter = lc.rec.FailuresBeforeCritical
	}
	if result == statusPassing || result == statusWarning {
		lc.successes++
		lc.failures = 0
		if lc.successes >= lc.rec.SuccessBeforePassing {
			return result
		}
		return lc.rec.Status
	}
	lc.failures++
	lc.successes = 0
	switch {
	case lc.failures >= lc.rec.FailuresBeforeCritical:
		return statusCritical
	case lc.failures >= warnAfter:
		return statusWarning
	}
	return lc.rec.Status
}
