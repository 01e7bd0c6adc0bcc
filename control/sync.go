package control

import (
	"context"
	"errors"
	"time"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
)

// SyncHandler receives a consistent view of the registry from Client.Sync.
type SyncHandler interface {
	// Snapshot replaces everything the handler knows: it is called first,
	// and again after any gap (reconnect, compaction).
	Snapshot(rev int64, instances []*registry.Instance, resources []*registry.Resource)
	// Changes applies events that follow the last snapshot or batch.
	Changes(rev int64, events []registry.Event)
}

// SyncOptions narrow what Sync follows.
type SyncOptions struct {
	// Instances and Resources choose what is listed and watched (both when neither is set).
	Instances, Resources bool
	// Filter narrows the instance listing (the watch carries everything of the kind
	// and the handler filters; the control API watches one service at most).
	Filter registry.Filter
	// ResourceKind narrows resources to one kind.
	ResourceKind string
	// Wait is the long-poll wait (default 30s).
	Wait time.Duration
	// MaxBackoff caps the delay between failed attempts (default 5s).
	MaxBackoff time.Duration
}

// Sync keeps handler in step with the control plane until ctx ends: it
// lists, then long-polls for changes, and lists again whenever it cannot
// prove it saw every change (compaction, errors). It returns ctx.Err().
func (c *Client) Sync(ctx context.Context, opts SyncOptions, h SyncHandler) error {
	if !opts.Instances && !opts.Resources {
		opts.Instances, opts.Resources = true, true
	}
	if opts.Wait <= 0 {
		opts.Wait = 30 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	var wf registry.WatchFilter
	if opts.Instances {
		wf.Kinds = append(wf.Kinds, registry.KindInstance)
	}
	if opts.Resources {
		wf.Kinds = append(wf.Kinds, registry.KindResource)
		wf.ResourceKind = opts.ResourceKind
	}
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: opts.MaxBackoff}
	for ctx.Err() == nil {
		rev, err := c.snapshot(ctx, opts, h)
		if err != nil {
			c.log.Warn("control sync: listing failed, retrying", "error", err)
			backoff.Wait(ctx) // the loop ends if ctx did
			continue
		}
		backoff.Reset()
		for ctx.Err() == nil {
			res, err := c.WatchOnce(ctx, rev, opts.Wait, wf)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				if !errors.Is(err, registry.ErrCompacted) {
					c.log.Warn("control sync: watch failed, listing again", "error", err)
					backoff.Wait(ctx)
				}
				break // list again
			}
			backoff.Reset()
			if len(res.Events) > 0 {
				h.Changes(res.Index, res.Events)
			}
			rev = max(rev, res.Index)
		}
	}
	return ctx.Err()
}

// snapshot lists what opts asks for and hands it to h. Instances and
// resources are listed separately, so the snapshot carries the lower of
// the two revisions: changes in between are replayed by the watch and are
// idempotent for a handler that keys objects by identity.
func (c *Client) snapshot(ctx context.Context, opts SyncOptions, h SyncHandler) (int64, error) {
	var (
		insts []*registry.Instance
		res   []*registry.Resource
		rev   int64 = -1
	)
	if opts.Instances {
		list, r, err := c.Instances(ctx, opts.Filter)
		if err != nil {
			return 0, err
		}
		insts, rev = list, r
	}
	if opts.Resources {
		list, r, err := c.Resources(ctx, opts.ResourceKind)
		if err != nil {
			return 0, err
		}
		res = list
		if rev < 0 || r < rev {
			rev = r
		}
	}
	h.Snapshot(rev, insts, res)
	return rev, nil
}
