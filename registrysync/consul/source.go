package consul

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registrysync"
)

// minQueryGap is the least time between two queries of one watch, which
// bounds a watch to 10 queries a second should a server answer blocking
// queries at once.
const minQueryGap = 100 * time.Millisecond

// consulService is the name Consul lists its own servers under; it is
// not an application and is not synced.
const consulService = "consul"

// errIndexWentBack ends a session whose catalog index went backwards:
// the catalog was restored or rebuilt, and the source lists it again.
var errIndexWentBack = errors.New("the catalog's index went backwards")

// Run lists the catalog (every service's health), sends it as a complete
// update, then follows it with blocking queries: one on the service list,
// one on each service's health, and sends each service whose instances
// changed. When the catalog query fails or its index goes backwards, it
// starts over: the first update after is complete again. A listing that
// fails sends nothing.
func (c *Connector) Run(ctx context.Context, updates chan<- registrysync.Update) error {
	backoff := wait.Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}
	failing := false
	listed := func() {
		backoff.Reset()
		if failing {
			c.env.Logger.Info("listing the catalog succeeds again")
			failing = false
		}
	}
	for {
		err := c.session(ctx, updates, listed)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errIndexWentBack):
			c.env.Logger.Info("the catalog's index went backwards: listing it again")
			continue
		case !failing:
			c.env.Logger.Warn("listing the catalog fails; nothing is sent until a listing succeeds", "error", err)
			failing = true
		}
		if !backoff.Wait(ctx) {
			return nil
		}
	}
}

// watchResult is a service's instances after a change, or its end.
type watchResult struct {
	name  string
	group registrysync.Group
}

// catalogResult is the service list after a change, or why the watch ended.
type catalogResult struct {
	names map[string]bool
	err   error
}

// session lists the catalog, sends it complete (then calls listed), and
// follows it until its catalog watch fails or ctx ends.
func (c *Connector) session(ctx context.Context, updates chan<- registrysync.Update, listed func()) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	names, index, err := c.serviceNames(ctx, 0)
	if err != nil {
		return err
	}
	groups, indexes, err := c.listAll(ctx, names)
	if err != nil {
		c.metrics.listed("error")
		return err
	}
	c.metrics.listed("ok")
	if !send(ctx, updates, registrysync.Update{Groups: groups, Complete: true}) {
		return nil
	}
	listed()
	last := map[string]registrysync.Group{}
	for _, g := range groups {
		last[g.Key.Service] = g
	}

	results := make(chan watchResult)
	watches := map[string]context.CancelFunc{}
	watch := func(name string, index uint64) {
		wctx, stop := context.WithCancel(ctx)
		watches[name] = stop
		wg.Go(func() { c.watchService(wctx, name, index, results) })
	}
	for name := range names {
		watch(name, indexes[name])
	}
	catalog := make(chan catalogResult)
	wg.Go(func() { c.watchCatalog(ctx, index, catalog) })

	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-catalog:
			if r.err != nil {
				return r.err
			}
			var gone []registrysync.Group
			for name, stop := range watches {
				if !r.names[name] {
					stop()
					delete(watches, name)
					delete(last, name)
					gone = append(gone, registrysync.Group{Key: registrysync.ServiceKey{Service: name}})
				}
			}
			for name := range r.names {
				if _, ok := watches[name]; !ok {
					watch(name, 0) // its first answer comes at once
				}
			}
			if len(gone) > 0 && !send(ctx, updates, registrysync.Update{Groups: gone}) {
				return nil
			}
		case r := <-results:
			if _, ok := watches[r.name]; !ok {
				continue // stopped meanwhile
			}
			if prev, ok := last[r.name]; ok && reflect.DeepEqual(prev, r.group) {
				continue // a blocking query may return without a change
			}
			last[r.name] = r.group
			if !send(ctx, updates, registrysync.Update{Groups: []registrysync.Group{r.group}}) {
				return nil
			}
		}
	}
}

func send(ctx context.Context, updates chan<- registrysync.Update, u registrysync.Update) bool {
	select {
	case updates <- u:
		return true
	case <-ctx.Done():
		return false
	}
}

// blocking is the options of a blocking query from index, and its
// context's cancel.
func (c *Connector) blocking(ctx context.Context, index uint64) (*api.QueryOptions, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Wait+c.cfg.Wait/16+c.cfg.Timeout)
	q := &api.QueryOptions{Datacenter: c.cfg.Datacenter, WaitIndex: index, WaitTime: c.cfg.Wait}
	return q.WithContext(ctx), cancel
}

// serviceNames reads the service list: at once with index 0, else once it
// changes past index or the wait ends.
func (c *Connector) serviceNames(ctx context.Context, index uint64) (map[string]bool, uint64, error) {
	q, cancel := c.blocking(ctx, index)
	defer cancel()
	services, meta, err := c.client.Catalog().Services(q)
	if err != nil {
		c.metrics.queried("catalog", "error")
		return nil, 0, fmt.Errorf("consul: list services: %w", err)
	}
	c.metrics.queried("catalog", "ok")
	names := make(map[string]bool, len(services))
	for name := range services {
		if name != consulService {
			names[name] = true
		}
	}
	return names, meta.LastIndex, nil
}

// instances reads a service's health entries as a group.
func (c *Connector) instances(ctx context.Context, name string, index uint64) (registrysync.Group, uint64, error) {
	q, cancel := c.blocking(ctx, index)
	defer cancel()
	entries, meta, err := c.client.Health().Service(name, "", false, q)
	if err != nil {
		c.metrics.queried("health", "error")
		return registrysync.Group{}, 0, fmt.Errorf("consul: health of %s: %w", name, err)
	}
	c.metrics.queried("health", "ok")
	g := registrysync.Group{Key: registrysync.ServiceKey{Service: name}}
	entries = slices.DeleteFunc(entries, func(e *api.ServiceEntry) bool {
		return e.Service == nil || e.Service.Kind != api.ServiceKindTypical // Connect proxies and gateways are not instances of an app
	})
	ids := instanceIDs(entries)
	for i, e := range entries {
		inst := fromConsul(e, c.cfg.Datacenter)
		inst.ID = ids[i]
		g.Instances = append(g.Instances, inst)
	}
	sortInstances(g.Instances)
	return g, meta.LastIndex, nil
}

// listAll reads every service's health, ListWorkers at a time; any
// failure fails the listing.
func (c *Connector) listAll(ctx context.Context, names map[string]bool) ([]registrysync.Group, map[string]uint64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan string)
	var (
		mu      sync.Mutex
		groups  []registrysync.Group
		indexes = map[string]uint64{}
		first   error
		wg      sync.WaitGroup
	)
	for range min(c.cfg.ListWorkers, max(len(names), 1)) {
		wg.Go(func() {
			for name := range work {
				g, index, err := c.instances(ctx, name, 0)
				mu.Lock()
				if err != nil && first == nil {
					first = err
					cancel()
				}
				if err == nil && len(g.Instances) > 0 {
					groups = append(groups, g)
				}
				indexes[name] = index
				mu.Unlock()
			}
		})
	}
	for name := range names {
		select {
		case work <- name:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	if first != nil {
		return nil, nil, first
	}
	sortGroups(groups)
	return groups, indexes, nil
}

// watchService follows a service's health with blocking queries and sends
// each answer until ctx ends; a failed query is retried with backoff.
func (c *Connector) watchService(ctx context.Context, name string, index uint64, results chan<- watchResult) {
	backoff := wait.Backoff{Min: 500 * time.Millisecond, Max: 30 * time.Second}
	var last time.Time
	for {
		if !wait.Sleep(ctx, minQueryGap-time.Since(last)) {
			return
		}
		last = time.Now()
		g, got, err := c.instances(ctx, name, index)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.env.Logger.Debug("watching a service fails", "service", name, "error", err)
			if !backoff.Wait(ctx) {
				return
			}
			continue
		}
		backoff.Reset()
		next := nextIndex(index, got)
		if next == 0 {
			c.metrics.indexReset("health")
		}
		index = next
		select {
		case results <- watchResult{name: name, group: g}:
		case <-ctx.Done():
			return
		}
	}
}

// watchCatalog follows the service list with blocking queries and sends
// each answer; it ends with the first failure or an index that went
// backwards, which end the session.
func (c *Connector) watchCatalog(ctx context.Context, index uint64, out chan<- catalogResult) {
	var last time.Time
	for {
		if !wait.Sleep(ctx, minQueryGap-time.Since(last)) {
			return
		}
		last = time.Now()
		names, got, err := c.serviceNames(ctx, index)
		if err == nil && nextIndex(index, got) == 0 {
			c.metrics.indexReset("catalog")
			err = errIndexWentBack
		}
		select {
		case out <- catalogResult{names: names, err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
		index = nextIndex(index, got)
	}
}

func sortGroups(groups []registrysync.Group) {
	sort.Slice(groups, func(i, j int) bool { return groups[i].Key.Service < groups[j].Key.Service })
}
