package control

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

// Election limits.
const (
	// DefaultElectionTTL is how long a candidate stays in an election
	// after its last campaign request when it names no ttl.
	DefaultElectionTTL = 15 * time.Second
	// MinElectionTTL and MaxElectionTTL bound the ttl a candidate asks for.
	MinElectionTTL = time.Second
	MaxElectionTTL = 5 * time.Minute
	// maxCandidates bounds the candidates of every election together, so
	// that campaign requests cannot make the server hold unbounded state.
	maxCandidates = 1024
	// electorRetry is the pause after a failed campaign in the store.
	electorRetry = time.Second
)

// elections are the control API's leader elections: processes that reach
// the registry only through the control API (registrysync replicas) elect
// one of them by campaigning here. A candidate campaigns and stays a
// candidate by sending campaign requests; ttl after its last one it is
// dropped, and with it its leadership. Within this process one candidate
// of an election leads at a time; when the store is shared by several
// control planes (etcd), the leading candidate of each process also
// campaigns in the store's own election (registry.Elector), so that one
// candidate leads across all of them.
type elections struct {
	// elector is the store's election when other processes share the
	// store; nil when this process alone decides.
	elector registry.Elector
	log     *slog.Logger

	mu         sync.Mutex
	races      map[string]*race
	candidates int
}

// race is one election in this process.
type race struct {
	// token is held by the candidate that leads here, or, with a shared
	// store, that campaigns in the store for this process.
	token      chan struct{}
	candidates map[string]*candidate
	// running counts the candidates' goroutines still alive, so the race
	// is forgotten only once none can hold its token.
	running int
}

// candidate is one campaigning process.
type candidate struct {
	cancel  context.CancelFunc
	expiry  *time.Timer
	leading bool
	dropped bool
	// changed is closed, and replaced, whenever leading or dropped change.
	changed chan struct{}
}

func newElections(store any, log *slog.Logger) *elections {
	e := &elections{log: log, races: map[string]*race{}}
	if el, ok := registry.As[registry.Elector](store); ok && el.Shared() {
		e.elector = el
	}
	return e
}

// campaign makes id a candidate of the election name, or keeps it one
// for another ttl, and answers whether it leads. A candidate that does
// not lead yet is answered when it does, or after wait, or when abort is
// closed (the server drains) or ctx ends.
func (e *elections) campaign(ctx context.Context, name, id string, ttl, wait time.Duration, abort <-chan struct{}) (bool, error) {
	e.mu.Lock()
	r := e.races[name]
	if r == nil {
		r = &race{token: make(chan struct{}, 1), candidates: map[string]*candidate{}}
		e.races[name] = r
	}
	c := r.candidates[id]
	if c == nil {
		if e.candidates >= maxCandidates {
			e.mu.Unlock()
			return false, fmt.Errorf("elections: %d candidates already campaign: %w", maxCandidates, registry.ErrConflict)
		}
		c = e.start(name, id, r)
	}
	c.expiry.Reset(ttl)
	leading, changed := c.leading, c.changed
	e.mu.Unlock()
	if leading || wait <= 0 {
		return leading, nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for !leading {
		select {
		case <-changed:
		case <-timer.C:
			return e.refresh(name, id, ttl)
		case <-abort:
			return e.refresh(name, id, ttl)
		case <-ctx.Done():
			return false, ctx.Err()
		}
		e.mu.Lock()
		if c.dropped {
			e.mu.Unlock()
			return false, nil
		}
		leading, changed = c.leading, c.changed
		e.mu.Unlock()
	}
	return e.refresh(name, id, ttl)
}

// refresh restarts id's ttl when a long-polled campaign answers (the
// candidate may have waited most of it) and reports whether it leads.
func (e *elections) refresh(name, id string, ttl time.Duration) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.races[name].candidateOrNil(id)
	if c == nil || c.dropped {
		return false, nil
	}
	c.expiry.Reset(ttl)
	return c.leading, nil
}

func (r *race) candidateOrNil(id string) *candidate {
	if r == nil {
		return nil
	}
	return r.candidates[id]
}

// start adds candidate id to r and starts its campaign; e.mu is held.
func (e *elections) start(name, id string, r *race) *candidate {
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{cancel: cancel, changed: make(chan struct{})}
	c.expiry = time.AfterFunc(time.Hour, func() { e.drop(name, id, c) }) // reset by the caller
	r.candidates[id] = c
	r.running++
	e.candidates++
	go e.run(ctx, name, r, c)
	return c
}

// run is a candidate's campaign: it waits for the process's token of the
// election, then, with a shared store, for the store's election, and
// leads until it is dropped or the store's leadership ends (then it
// campaigns again).
func (e *elections) run(ctx context.Context, name string, r *race, c *candidate) {
	defer e.finish(name, r)
	select {
	case r.token <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-r.token }()
	for ctx.Err() == nil {
		lead, resign := ctx, func() {}
		if e.elector != nil {
			var err error
			if lead, resign, err = e.elector.Lead(ctx, "control-election/"+name); err != nil {
				if ctx.Err() == nil {
					e.log.Warn("campaign in the store failed; retrying", "election", name, "error", err)
					wait.Sleep(ctx, electorRetry)
				}
				continue
			}
		}
		e.setLeading(c, true)
		<-lead.Done()
		e.setLeading(c, false)
		resign()
	}
}

// finish forgets r once its last candidate's campaign ended.
func (e *elections) finish(name string, r *race) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r.running--
	if r.running == 0 && len(r.candidates) == 0 && e.races[name] == r {
		delete(e.races, name)
	}
}

func (e *elections) setLeading(c *candidate, leading bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.dropped {
		leading = false
	}
	c.leading = leading
	close(c.changed)
	c.changed = make(chan struct{})
}

// drop ends c's candidacy (its ttl ran out, or it resigned): its campaign
// stops and its leadership with it.
func (e *elections) drop(name, id string, c *candidate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.races[name]
	if r == nil || r.candidates[id] != c || c.dropped {
		return
	}
	delete(r.candidates, id)
	e.candidates--
	c.dropped, c.leading = true, false
	c.expiry.Stop()
	c.cancel()
	close(c.changed)
	c.changed = make(chan struct{})
}

// resign drops candidate id of name at once; an unknown one is no error.
func (e *elections) resign(name, id string) {
	e.mu.Lock()
	c := e.races[name].candidateOrNil(id)
	e.mu.Unlock()
	if c != nil {
		e.drop(name, id, c)
	}
}

// leader names the candidate that leads name in this process, if any.
func (e *elections) leader(name string) (leader string, candidates int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.races[name]
	if r == nil {
		return "", 0
	}
	for id, c := range r.candidates {
		if c.leading {
			leader = id
		}
	}
	return leader, len(r.candidates)
}
