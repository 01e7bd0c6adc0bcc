package meshview

import (
	"context"
	"errors"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

var kvOnly = registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindKV}}

// RunKV follows the control plane's KV changes and publishes them to the
// view's watchers (Consul blocking queries, Nacos config listeners) until
// ctx ends. It long-polls the control API's watch, so
// an idle key space costs two requests per wait. When the control plane
// is unreachable it retries with backoff and resumes from the last
// revision it saw; when changes may have been missed (history compacted,
// a control plane that came back with a new store) it resets the view's
// watchers so that every front-end reads again.
func (v *View) RunKV(ctx context.Context) {
	var (
		from    int64 // every KV change up to here is published; 0: not known
		check   = true
		missed  bool // changes since from may be lost
		failing bool
		backoff = wait.Backoff{Min: 100 * time.Millisecond, Max: v.opts.KVMaxBackoff}
	)
	fail := func(err error) {
		if !failing {
			v.logger.Warn("following KV changes of the control plane failed; retrying", "error", err)
			failing = true
		}
		backoff.Wait(ctx) // the loop ends if ctx did
	}
	for ctx.Err() == nil {
		if check {
			// Where the control plane is now: index 0 answers at once.
			res, err := v.opts.Upstream.WatchOnce(ctx, 0, 0, kvOnly)
			if err != nil {
				if ctx.Err() == nil {
					fail(err)
				}
				continue
			}
			if res.Index < from { // a new store: its revisions started again
				v.logger.Warn("control plane revisions went back; KV watchers read again", "from", from, "now", res.Index)
				missed = true
			}
			switch {
			case missed:
				v.mu.Lock()
				v.resetKVLocked(res.Index)
				v.mu.Unlock()
				from, missed = res.Index, false
			case from == 0:
				from = res.Index
			}
			check = false
		}
		res, err := v.opts.Upstream.WatchOnce(ctx, from, v.opts.KVWait, kvOnly)
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, registry.ErrCompacted):
			v.logger.Warn("control plane no longer holds the KV changes since the last one seen; KV watchers read again", "from", from)
			check, missed = true, true
		case err != nil:
			// Unreachable, or restarted: on the way back, make sure its
			// revisions still follow ours before resuming.
			check = true
			fail(err)
		default:
			if failing {
				v.logger.Info("following KV changes of the control plane again", "from", from)
				failing = false
			}
			backoff.Reset()
			v.publishKV(res.Events)
			from = max(from, res.Index)
			// A quiet poll may have been answered by a control plane that
			// restarted with a new store (the client retries quietly) and
			// is waiting for a revision it has not reached: look.
			check = len(res.Events) == 0
		}
	}
}
