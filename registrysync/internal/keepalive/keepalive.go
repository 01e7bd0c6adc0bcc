// Package keepalive renews the copies a registrysync sink keeps alive the
// way its registry expects (a Eureka lease renewal, a Consul TTL check
// update): each copy on its own period, spread over the period so that
// ten thousand copies do not renew in one burst.
package keepalive

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Keeper calls its renew function for every copy it holds once per
// interval, with at most workers calls at a time, from Start to Stop.
type Keeper struct {
	interval time.Duration
	workers  int
	renew    func(ctx context.Context, id string) error
	logger   *slog.Logger
	// failing is set while renewals fail, so that a run of failures logs
	// once, and its end once.
	failing atomic.Bool

	mu  sync.Mutex
	due map[string]time.Time

	runMu   sync.Mutex
	stop    context.CancelFunc
	stopped bool
	running sync.WaitGroup
}

// New returns a Keeper that calls renew for each copy every interval,
// workers at a time (at least one). A copy renew fails for stays held
// unless renew removes it; the first failure of a run and the first
// success after it are logged to logger.
func New(interval time.Duration, workers int, logger *slog.Logger, renew func(ctx context.Context, id string) error) *Keeper {
	return &Keeper{interval: interval, workers: max(workers, 1), renew: renew, logger: logger, due: map[string]time.Time{}}
}

// Start starts the renewals in the background, once; after Stop it does
// nothing. Sinks start them at their first copy, so that building a
// connector has no side effects.
func (k *Keeper) Start() {
	k.runMu.Lock()
	defer k.runMu.Unlock()
	if k.stop != nil || k.stopped {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	k.stop = cancel
	k.running.Go(func() { k.Run(ctx) })
}

// Stop ends the renewals and waits for those in flight.
func (k *Keeper) Stop() {
	k.runMu.Lock()
	k.stopped = true
	stop := k.stop
	k.runMu.Unlock()
	if stop != nil {
		stop()
	}
	k.running.Wait()
}

// Add holds id. A copy just written counts as renewed now (fresh); one
// found in the registry (adopted after a restart or a takeover) is due at
// a random point within the next interval, so that a syncer adopting
// thousands of copies spreads their renewals. Adding a held id again
// leaves its schedule alone unless fresh.
func (k *Keeper) Add(id string, fresh bool) {
	now := time.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	_, held := k.due[id]
	switch {
	case fresh:
		k.due[id] = now.Add(k.interval)
	case !held:
		k.due[id] = now.Add(rand.N(k.interval) + time.Millisecond)
	}
}

// Remove stops renewing id.
func (k *Keeper) Remove(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.due, id)
}

// Held reports whether id is renewed.
func (k *Keeper) Held(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.due[id]
	return ok
}

// IDs lists the held copies.
func (k *Keeper) IDs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, 0, len(k.due))
	for id := range k.due {
		out = append(out, id)
	}
	return out
}

// Len is the number of held copies.
func (k *Keeper) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.due)
}

// Run renews what is due until ctx ends. It looks for due copies a few
// times per interval (at most once a second), which bounds how late a
// renewal can be to a quarter of the interval.
func (k *Keeper) Run(ctx context.Context) {
	tick := min(max(k.interval/4, 10*time.Millisecond), time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.renewDue(ctx, k.takeDue(time.Now()))
		}
	}
}

// takeDue returns the copies due at now and schedules their next renewal.
func (k *Keeper) takeDue(now time.Time) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var ids []string
	for id, at := range k.due {
		if !at.After(now) {
			ids = append(ids, id)
			k.due[id] = now.Add(k.interval)
		}
	}
	return ids
}

// renewDue renews ids, workers at a time, and returns when all are done.
func (k *Keeper) renewDue(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(k.workers, len(ids)) {
		wg.Go(func() {
			for id := range work {
				k.renewOne(ctx, id)
			}
		})
	}
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
}

// renewOne renews a copy and logs where a run of failures starts and ends.
func (k *Keeper) renewOne(ctx context.Context, id string) {
	err := k.renew(ctx, id)
	switch {
	case err != nil && ctx.Err() == nil:
		if k.failing.CompareAndSwap(false, true) {
			k.logger.Warn("renewing copies fails; they lapse unless it recovers", "copy", id, "error", err)
		}
	case err == nil:
		if k.failing.CompareAndSwap(true, false) {
			k.logger.Info("renewing copies succeeds again")
		}
	}
}
