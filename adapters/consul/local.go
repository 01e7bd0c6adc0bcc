package consul

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// agentState is what a Consul agent knows locally: the services registered
// through it and the run state of their checks. It is rebuilt from the
// store when Run starts and kept in step by the store's change stream, so
// the store stays the one source of truth (another front-end may
// deregister or override a service registered here).
type agentState struct {
	mu       sync.Mutex
	services map[string]*localService // by service ID
	checks   map[string]*localCheck   // by check ID (unique per agent, as in Consul)
	// applied is the newest store revision reflected here; handlers wait
	// for their own write to arrive so a read after a write sees it.
	applied   int64
	appliedCh chan struct{}
}

// localService is one service registered through this agent.
type localService struct {
	key    registry.InstanceKey
	inst   *registry.Instance // shared: read-only
	checks map[string]*localCheck
}

// localCheck is one check with its run state.
type localCheck struct {
	rec    checkRecord // definition and last status/output written to the store
	defKey string
	key    registry.InstanceKey

	ttlDeadline   time.Time
	ttlExpired    bool
	nextRun       time.Time
	probing       bool
	criticalSince time.Time
	lastWrite     time.Time
	// pendingOutput holds an output-only change waiting for
	// CheckUpdateInterval, as Consul defers such syncs.
	pendingOutput *string
	// lastOutput is the last output a TTL update brought, written or not;
	// an expiry quotes it.
	lastOutput string
	successes  int
	failures   int
}

func newAgentState() *agentState {
	return &agentState{
		services:  map[string]*localService{},
		checks:    map[string]*localCheck{},
		appliedCh: make(chan struct{}),
	}
}

// reset forgets everything (before a full resync).
func (a *agentState) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.services)
	clear(a.checks)
}

// put reconciles one stored consul instance: new or changed check
// definitions start fresh, unchanged ones keep their timers.
func (a *agentState) put(inst *registry.Instance, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ls := a.services[inst.ID]
	if ls != nil && ls.key != inst.Key() {
		// The ID was registered again under another name: like Consul,
		// the newest registration of an ID wins.
		a.dropLocked(inst.ID)
		ls = nil
	}
	if ls == nil {
		ls = &localService{key: inst.Key(), checks: map[string]*localCheck{}}
		a.services[inst.ID] = ls
	}
	ls.inst = inst
	_, recs := readRecords(inst)
	seen := make(map[string]bool, len(recs))
	for _, rec := range recs {
		seen[rec.ID] = true
		dk := rec.definitionKey()
		lc := ls.checks[rec.ID]
		if lc == nil || lc.defKey != dk {
			lc = newLocalCheck(rec, dk, ls.key, now)
			ls.checks[rec.ID] = lc
		} else {
			lc.setStatus(rec.Status, now)
			lc.rec.Output = rec.Output
			lc.heartbeat(rec.Heartbeat, now)
		}
		a.checks[rec.ID] = lc
	}
	for id, lc := range ls.checks {
		if !seen[id] {
			delete(ls.checks, id)
			if a.checks[id] == lc {
				delete(a.checks, id)
			}
		}
	}
}

// remove forgets the service stored under key, if it is the one known.
func (a *agentState) remove(key registry.InstanceKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ls := a.services[key.ID]; ls != nil && ls.key == key {
		a.dropLocked(key.ID)
	}
}

func (a *agentState) dropLocked(id string) {
	ls := a.services[id]
	if ls == nil {
		return
	}
	for cid, lc := range ls.checks {
		if a.checks[cid] == lc {
			delete(a.checks, cid)
		}
	}
	delete(a.services, id)
}

func newLocalCheck(rec *checkRecord, defKey string, key registry.InstanceKey, now time.Time) *localCheck {
	lc := &localCheck{rec: *rec, defKey: defKey, key: key, lastWrite: now, lastOutput: rec.Output,
		successes: rec.SuccessBeforePassing, failures: rec.FailuresBeforeCritical}
	switch rec.Type {
	case typeTTL:
		lc.ttlDeadline = now.Add(rec.TTL)
	case typeHTTP, typeTCP:
		// A random first delay spreads checks registered together, as
		// Consul staggers them.
		lc.nextRun = now.Add(rand.N(rec.Interval + 1))
	}
	if rec.Status == statusCritical {
		lc.criticalSince = now
	}
	return lc
}

// setStatus records a status and when it turned critical.
func (lc *localCheck) setStatus(status string, now time.Time) {
	if status == statusCritical && lc.rec.Status != statusCritical {
		lc.criticalSince = now
	}
	if status != statusCritical {
		lc.criticalSince = time.Time{}
	}
	lc.rec.Status = status
}

// service returns the locally registered service with the ID, or nil.
func (a *agentState) service(id string) *registry.Instance {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ls := a.services[id]; ls != nil {
		return ls.inst
	}
	return nil
}

// all returns every locally registered service (shared, read-only).
func (a *agentState) all() []*registry.Instance {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*registry.Instance, 0, len(a.services))
	for _, ls := range a.services {
		out = append(out, ls.inst)
	}
	return out
}

// checkInfo is a copy of what a handler needs to know about a check.
type checkInfo struct {
	key    registry.InstanceKey
	rec    checkRecord
	defKey string
}

// check returns a copy of the check with the ID.
func (a *agentState) check(id string) (checkInfo, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	lc := a.checks[id]
	if lc == nil {
		return checkInfo{}, false
	}
	return checkInfo{key: lc.key, rec: lc.rec, defKey: lc.defKey}, true
}

// ttlUpdate applies a TTL check update in memory: it resets the timer and
// reports what must be written to the store. Nothing is written when
// neither status nor output changed, which keeps heartbeats free of store
// writes — unless the store is shared, where a heartbeat is recorded at
// most every beatEvery so the replica running the checks sees it.
// beatOnly means the write records the heartbeat and changes nothing else.
func (a *agentState) ttlUpdate(id, status, output string, now time.Time, outputInterval time.Duration, shared bool) (write, beatOnly bool, info checkInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	lc := a.checks[id]
	if lc == nil {
		return false, false, checkInfo{}
	}
	lc.ttlDeadline = now.Add(lc.rec.TTL)
	lc.ttlExpired = false
	lc.lastOutput = output
	info = checkInfo{key: lc.key, rec: lc.rec, defKey: lc.defKey}
	info.rec.Status, info.rec.Output = status, output
	switch {
	case status != lc.rec.Status:
	case output != lc.rec.Output && now.Sub(lc.lastWrite) >= outputInterval:
	case shared && now.Sub(lc.rec.Heartbeat) >= beatEvery(lc.rec.TTL):
		beatOnly = output == lc.rec.Output
	case output != lc.rec.Output:
		lc.pendingOutput = &output
		return false, false, info
	default:
		return false, false, info
	}
	lc.pendingOutput = nil
	if shared {
		// Taken as recorded now, so that concurrent heartbeats do not
		// all write; a failed write only delays the next record.
		lc.rec.Heartbeat = now
		info.rec.Heartbeat = now
	}
	return true, beatOnly, info
}

// written records a successful store write of a check's state.
func (a *agentState) written(id, defKey, status, output string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if lc := a.checks[id]; lc != nil && lc.defKey == defKey {
		lc.setStatus(status, now)
		lc.rec.Output = output
		lc.lastWrite = now
	}
}

// setApplied records that events up to rev are reflected.
func (a *agentState) setApplied(rev int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if rev > a.applied {
		a.applied = rev
		close(a.appliedCh)
		a.appliedCh = make(chan struct{})
	}
}

// waitApplied waits until the change at rev is reflected, or gives up
// after a short while (the write itself has succeeded either way).
func (a *agentState) waitApplied(ctx context.Context, rev int64, limit time.Duration) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		a.mu.Lock()
		done, ch := a.applied >= rev, a.appliedCh
		a.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}
