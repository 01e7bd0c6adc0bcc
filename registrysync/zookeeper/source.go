package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/wait"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// listWorkers bounds the services read at once in a listing: go-zookeeper
// pipelines requests on its one connection, so a few in flight hide the
// round trips without flooding the server.
const listWorkers = 8

// Run implements registrysync.Source: a complete listing on every new
// connection, then the changes the watches report, one group per
// changed service.
func (c *Connector) Run(ctx context.Context, updates chan<- registrysync.Update) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	q := newEventQueue()
	cl, err := dial(c.cfg, c.dialer, c.logger, q.push)
	if err != nil {
		return fmt.Errorf("zookeeper: %w", err)
	}
	defer cl.close(false)
	w := &watcher{
		cl: cl, root: c.cfg.Root, q: q, logger: c.logger, metrics: c.metrics,
		services:   map[string]map[string]*registry.Instance{},
		armedChild: map[string]bool{},
		armedData:  map[string]bool{},
	}
	w.run(ctx, updates, c.cfg.Resync)
	return nil
}

// watcher is the source's view of the registry and the watches that keep
// it current. Only Run's goroutine uses it, and the workers of a
// listing, which take mu for the watch bookkeeping.
type watcher struct {
	cl      *client
	root    string
	q       *eventQueue
	logger  *slog.Logger
	metrics *metrics

	// services is what the last listing and the changes since hold.
	services map[string]map[string]*registry.Instance

	// The watches set on the server and not fired since. A path with a
	// watch is read without setting another (go-zookeeper would keep one
	// channel per call until the watch fires).
	mu         sync.Mutex
	armedChild map[string]bool
	armedData  map[string]bool
	armedRoot  bool // an exists watch on a root that is not there yet
}

func (w *watcher) run(ctx context.Context, updates chan<- registrysync.Update, resync time.Duration) {
	var resyncC <-chan time.Time
	if resync > 0 {
		t := time.NewTicker(resync)
		defer t.Stop()
		resyncC = t.C
	}
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	full, failing := true, false
	for {
		if full {
			if w.cl.waitSession(ctx) != nil {
				return // ctx ended
			}
			// Only the bookkeeping of what is queued: the listing reads
			// everything, so a request for one is answered already.
			_, _ = w.apply(ctx, w.q.drain(), false)
			groups, err := w.listAll(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				w.metrics.listings.WithLabelValues("failed").Inc()
				// One warning per run of failures; the retries say it at debug level.
				level := slog.LevelWarn
				if failing {
					level = slog.LevelDebug
				}
				w.logger.Log(ctx, level, "zookeeper listing failed; nothing sent, retrying", "error", err)
				failing = true
				if !backoff.Wait(ctx) {
					return
				}
				continue
			}
			if failing {
				w.logger.Info("zookeeper listing complete again")
				failing = false
			}
			backoff.Reset()
			w.metrics.listings.WithLabelValues("complete").Inc()
			if !send(ctx, updates, registrysync.Update{Groups: groups, Complete: true}) {
				return
			}
			full = false
		}
		select {
		case <-ctx.Done():
			return
		case <-resyncC:
			full = true
			continue
		case <-w.q.signal:
		}
		groups, err := w.apply(ctx, w.q.drain(), true)
		switch {
		case errors.Is(err, errNeedListing):
			full = true
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			w.logger.Warn("zookeeper change not read; listing everything again", "error", err)
			full = true
		case len(groups) > 0:
			if !send(ctx, updates, registrysync.Update{Groups: groups}) {
				return
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

// errNeedListing says the events asked for a complete listing (a new
// session, lost watches) instead of reads of what changed.
var errNeedListing = errors.New("a complete listing is needed")

// apply takes in a batch of events: it keeps the watch bookkeeping and,
// with read set, reads what changed and returns its groups.
func (w *watcher) apply(ctx context.Context, events []zk.Event, read bool) ([]registrysync.Group, error) {
	dirty := map[string]bool{}
	rootDirty, needListing := false, false
	for _, ev := range events {
		switch ev.Type {
		case zk.EventSession:
			switch ev.State {
			case zk.StateExpired:
				w.metrics.expiries.Inc()
				w.logger.Warn("zookeeper session expired; its watches are gone")
				w.forgetWatches()
				needListing = true
			case zk.StateHasSession:
				needListing = true // a reconnection starts with a complete listing
			}
		case zk.EventNotWatching:
			w.forgetWatches() // the client dropped its watches (expiry, or its queue overflowed)
			needListing = true
		case zk.EventNodeCreated:
			w.disarm(ev.Path, false, false, true)
			rootDirty = true
		case zk.EventNodeChildrenChanged:
			w.disarm(ev.Path, true, false, false)
			if ev.Path == w.root {
				rootDirty = true
			} else if svc, _, ok := w.split(ev.Path); ok {
				dirty[svc] = true
			}
		case zk.EventNodeDataChanged, zk.EventNodeDeleted:
			w.disarm(ev.Path, ev.Type == zk.EventNodeDeleted, true, ev.Type == zk.EventNodeDeleted)
			switch svc, _, ok := w.split(ev.Path); {
			case ev.Path == w.root:
				rootDirty = true
			case ok:
				dirty[svc] = true
			}
		}
		if ev.Type != zk.EventSession {
			w.metrics.watchEvents.Inc()
		}
	}
	if needListing {
		return nil, errNeedListing
	}
	if !read {
		return nil, nil
	}
	var out []registrysync.Group
	if rootDirty {
		names, err := w.listRoot()
		if err != nil {
			return nil, err
		}
		for svc := range w.services {
			if !slices.Contains(names, svc) {
				delete(w.services, svc)
				delete(dirty, svc)
				out = append(out, registrysync.Group{Key: registrysync.ServiceKey{Service: svc}})
			}
		}
		for _, svc := range names {
			if _, known := w.services[svc]; !known {
				dirty[svc] = true
			}
		}
	}
	// The changed services are read several at once (a burst touches
	// many), then applied in order.
	names := slices.Sorted(maps.Keys(dirty))
	var (
		mu      sync.Mutex
		fetched = make(map[string]map[string]*registry.Instance, len(names))
	)
	err := forEach(ctx, names, func(svc string) error {
		insts, err := w.listService(svc, false)
		if errors.Is(err, zk.ErrNoNode) {
			insts, err = nil, nil // gone: no group read
		}
		if err != nil {
			return err
		}
		mu.Lock()
		fetched[svc] = insts
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, svc := range names {
		insts := fetched[svc]
		if insts == nil {
			if _, known := w.services[svc]; known {
				delete(w.services, svc)
				out = append(out, registrysync.Group{Key: registrysync.ServiceKey{Service: svc}})
			}
			continue
		}
		w.services[svc] = insts
		out = append(out, group(svc, insts))
	}
	return out, nil
}

// listAll reads every service and instance: the complete listing.
func (w *watcher) listAll(ctx context.Context) ([]registrysync.Group, error) {
	names, err := w.listRoot()
	if err != nil {
		return nil, err
	}
	var (
		mu       sync.Mutex
		services = make(map[string]map[string]*registry.Instance, len(names))
	)
	err = forEach(ctx, names, func(svc string) error {
		insts, err := w.listService(svc, true)
		if errors.Is(err, zk.ErrNoNode) {
			return nil // gone since the root was read; the root's watch says so
		}
		if err != nil {
			return err
		}
		mu.Lock()
		services[svc] = insts
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	w.services = services
	out := make([]registrysync.Group, 0, len(services))
	for _, svc := range slices.Sorted(maps.Keys(services)) {
		out = append(out, group(svc, services[svc]))
	}
	return out, nil
}

// listRoot reads the service names, watching the root for more. A root
// that does not exist yet (nothing registered) holds no services; an
// exists watch tells when it appears.
func (w *watcher) listRoot() ([]string, error) {
	names, err := w.children(w.root)
	if !errors.Is(err, zk.ErrNoNode) {
		return names, err
	}
	w.mu.Lock()
	armed := w.armedRoot
	w.mu.Unlock()
	if armed {
		return nil, nil
	}
	exists, _, _, err := w.cl.conn.ExistsW(w.root)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", w.root, err)
	}
	w.mu.Lock()
	w.armedRoot = true
	w.mu.Unlock()
	if exists { // created between the two reads: read it now
		return w.children(w.root)
	}
	return nil, nil
}

// listService reads a service's instances. With fresh unset, instances
// whose data watch has not fired are taken from what is known.
func (w *watcher) listService(svc string, fresh bool) (map[string]*registry.Instance, error) {
	path := w.root + "/" + svc
	ids, err := w.children(path)
	if err != nil {
		return nil, err
	}
	known := w.services[svc]
	out := make(map[string]*registry.Instance, len(ids))
	for _, id := range ids {
		p := path + "/" + id
		if inst, ok := known[id]; ok && !fresh && w.armed(w.armedData, p) {
			out[id] = inst
			continue
		}
		data, stat, err := w.get(p)
		if errors.Is(err, zk.ErrNoNode) {
			continue // deleted since the listing; the service's watch says so
		}
		if err != nil {
			return nil, err
		}
		if inst := w.decode(svc, id, data, stat); inst != nil {
			out[id] = inst
		}
	}
	return out, nil
}

// decode maps a node to an instance, or logs why it cannot and skips it:
// a bad record is bad input, not a failed listing.
func (w *watcher) decode(svc, id string, data []byte, stat *zk.Stat) *registry.Instance {
	rec, err := decodeRecord(data)
	if err == nil {
		var inst *registry.Instance
		if inst, err = toInstance(svc, id, rec, stat.EphemeralOwner != 0); err == nil {
			return inst
		}
	}
	w.metrics.badRecords.Inc()
	w.logger.Warn("zookeeper node skipped: not an instance record", "path", w.root+"/"+svc+"/"+id, "error", err)
	return nil
}

// children lists path's children, setting a child watch unless one is set.
func (w *watcher) children(path string) ([]string, error) {
	if w.armed(w.armedChild, path) {
		names, _, err := w.cl.conn.Children(path)
		return names, wrapRead(path, err)
	}
	names, _, _, err := w.cl.conn.ChildrenW(path)
	if err != nil {
		return nil, wrapRead(path, err)
	}
	w.arm(w.armedChild, path)
	return names, nil
}

// get reads path's data, setting a data watch unless one is set.
func (w *watcher) get(path string) ([]byte, *zk.Stat, error) {
	if w.armed(w.armedData, path) {
		data, stat, err := w.cl.conn.Get(path)
		return data, stat, wrapRead(path, err)
	}
	data, stat, _, err := w.cl.conn.GetW(path)
	if err != nil {
		return nil, nil, wrapRead(path, err)
	}
	w.arm(w.armedData, path)
	return data, stat, nil
}

func wrapRead(path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("read %s: %w", path, err)
}

func (w *watcher) armed(set map[string]bool, path string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return set[path]
}

func (w *watcher) arm(set map[string]bool, path string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	set[path] = true
}

// disarm records that a watch on path fired: ZooKeeper's watches fire
// once.
func (w *watcher) disarm(path string, child, data, exists bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if child {
		delete(w.armedChild, path)
	}
	if data {
		delete(w.armedData, path)
	}
	if exists && path == w.root {
		w.armedRoot = false
	}
}

func (w *watcher) forgetWatches() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.armedChild)
	clear(w.armedData)
	w.armedRoot = false
}

// split names the service (and instance) a path below the root is about.
func (w *watcher) split(path string) (svc, id string, ok bool) {
	rel, found := strings.CutPrefix(path, w.root+"/")
	if !found || rel == "" {
		return "", "", false
	}
	svc, id, _ = strings.Cut(rel, "/")
	return svc, id, !strings.Contains(id, "/")
}

// group returns a service's instances, sorted by id, as copies: the
// engine may change what it is given.
func group(svc string, insts map[string]*registry.Instance) registrysync.Group {
	g := registrysync.Group{Key: registrysync.ServiceKey{Service: svc}, Instances: make([]*registry.Instance, 0, len(insts))}
	for _, id := range slices.Sorted(maps.Keys(insts)) {
		g.Instances = append(g.Instances, insts[id].Clone())
	}
	return g
}

// forEach runs fn for every item, listWorkers at a time, and returns the
// first error (the others stop taking items).
func forEach[T any](ctx context.Context, items []T, fn func(T) error) error {
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	take := func() (T, bool) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil || next >= len(items) || ctx.Err() != nil {
			var none T
			return none, false
		}
		next++
		return items[next-1], true
	}
	for range min(listWorkers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for item, ok := take(); ok; item, ok = take() {
				if err := fn(item); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return first
}

// eventQueue takes the client's events without blocking its reading
// goroutine and hands them to Run in order.
type eventQueue struct {
	mu       sync.Mutex
	events   []zk.Event
	overflow bool
	signal   chan struct{}
}

// maxQueuedEvents bounds the queue while Run is busy (a slow engine); past
// it the events are dropped and the next batch asks for a listing.
const maxQueuedEvents = 100_000

func newEventQueue() *eventQueue { return &eventQueue{signal: make(chan struct{}, 1)} }

func (q *eventQueue) push(ev zk.Event) {
	q.mu.Lock()
	if len(q.events) < maxQueuedEvents {
		q.events = append(q.events, ev)
	} else {
		q.overflow = true
	}
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// drain returns the queued events; after an overflow it ends them with a
// NotWatching event, which forgets every watch and asks for a listing.
func (q *eventQueue) drain() []zk.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.events
	if q.overflow {
		out = append(out, zk.Event{Type: zk.EventNotWatching})
		q.overflow = false
	}
	q.events = nil
	return out
}
