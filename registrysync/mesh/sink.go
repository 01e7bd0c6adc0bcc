package mesh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// origin is the model's Origin of this syncer's copies ("sync:<id>").
func (c *Connector) origin() string { return "sync:" + c.env.Owner }

// Owned lists the copies whose owner marker is this syncer's id.
func (c *Connector) Owned(ctx context.Context) ([]*registry.Instance, error) {
	list, _, err := c.client.Instances(ctx, registry.Filter{Origin: c.origin()})
	if err != nil {
		return nil, fmt.Errorf("mesh: list the copies: %w", err)
	}
	out := list[:0]
	for _, inst := range list {
		if inst.Metadata[registrysync.MetaOwner] == c.env.Owner {
			out = append(out, inst)
		}
	}
	return out, nil
}

// Put registers inst as an ephemeral instance with the configured lease
// and keeps renewing it. It never writes over an instance that is not
// this syncer's copy (an app registered in the mesh under the same
// service and id): that is an error, and nothing is written.
func (c *Connector) Put(ctx context.Context, inst *registry.Instance) error {
	cp := c.asCopy(inst)
	key := registry.NewInstanceKey(cp.Namespace, cp.Group, cp.Service, cp.ID)
	switch there, err := c.client.Instance(ctx, key); {
	case errors.Is(err, registry.ErrNotFound):
	case err != nil:
		return fmt.Errorf("mesh: put %s: %w", key, err)
	case there.Metadata[registrysync.MetaOwner] != c.env.Owner:
		return fmt.Errorf("mesh: put %s: an instance that is not this syncer's copy is registered there (origin %q)", key, there.Origin)
	}
	if _, err := c.client.Register(ctx, cp); err != nil {
		return fmt.Errorf("mesh: put %s: %w", key, err)
	}
	c.keepAlive(key, cp)
	return nil
}

// asCopy is inst as the mesh keeps a copy: ephemeral, with this sink's
// lease and the syncer's origin.
func (c *Connector) asCopy(inst *registry.Instance) *registry.Instance {
	cp := inst.Clone()
	cp.Ephemeral = true
	cp.Lease = registry.Lease{RenewalInterval: c.cfg.RenewInterval, Duration: c.cfg.LeaseDuration}
	cp.Origin = c.origin()
	cp.Revision, cp.Registered, cp.Updated = 0, time.Time{}, time.Time{}
	return cp
}

// Adopt keeps alive copies a previous process of this syncer wrote,
// renewing them at once.
func (c *Connector) Adopt(_ context.Context, copies []*registry.Instance) error {
	for _, inst := range copies {
		cp := c.asCopy(inst)
		c.keepAlive(registry.NewInstanceKey(cp.Namespace, cp.Group, cp.Service, cp.ID), cp)
	}
	select {
	case c.nudge <- struct{}{}:
	default:
	}
	return nil
}

// Delete deregisters a copy; one already gone is not an error.
func (c *Connector) Delete(ctx context.Context, inst *registry.Instance) error {
	key := registry.NewInstanceKey(inst.Namespace, inst.Group, inst.Service, inst.ID)
	c.mu.Lock()
	delete(c.kept, key)
	c.mu.Unlock()
	if err := c.client.Deregister(ctx, key); err != nil && !errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("mesh: delete %s: %w", key, err)
	}
	return nil
}

// keepAlive adds a copy to those renewed, starting the renewals with the
// first.
func (c *Connector) keepAlive(key registry.InstanceKey, cp *registry.Instance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kept[key] = cp
	if c.stop == nil && !c.closed {
		ctx, cancel := context.WithCancel(context.Background())
		c.stop, c.renewed = cancel, make(chan struct{})
		go c.renewals(ctx, c.renewed)
	}
}

// renewals renews every kept copy each RenewInterval (at once when
// nudged) until ctx ends. A copy the mesh no longer knows (it expired
// while the syncer could not renew it, or was removed behind its back)
// is registered again, as a Eureka client does after a 404.
func (c *Connector) renewals(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	for {
		c.renewAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-c.nudge:
		case <-time.After(c.cfg.RenewInterval):
		}
	}
}

func (c *Connector) renewAll(ctx context.Context) {
	c.mu.Lock()
	batch := make(map[registry.InstanceKey]*registry.Instance, len(c.kept))
	for k, v := range c.kept {
		batch[k] = v
	}
	c.mu.Unlock()
	sem := make(chan struct{}, c.cfg.RenewConcurrency)
	var wg sync.WaitGroup
	for key, cp := range batch {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			c.renew(ctx, key, cp)
		})
	}
	wg.Wait()
}

func (c *Connector) renew(ctx context.Context, key registry.InstanceKey, cp *registry.Instance) {
	err := c.client.Renew(ctx, key)
	if !errors.Is(err, registry.ErrNotFound) {
		if err != nil && ctx.Err() == nil {
			c.log.Warn("renewing a copy failed", "copy", key.String(), "error", err)
		}
		return
	}
	c.mu.Lock()
	still := c.kept[key] == cp
	c.mu.Unlock()
	if !still { // deleted meanwhile
		return
	}
	c.log.Info("a copy the mesh lost is registered again", "copy", key.String())
	if _, err := c.client.Register(ctx, cp); err != nil && ctx.Err() == nil {
		c.log.Warn("registering a lost copy again failed", "copy", key.String(), "error", err)
	}
}
