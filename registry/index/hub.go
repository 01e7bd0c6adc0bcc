package index

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/meshbridge/meshbridge/registry"
)

// DefaultHistory is how many events a hub keeps for watches that resume.
const DefaultHistory = 16384

// Hub keeps the most recent events in a ring and lets watchers read from any
// revision still in it. Each watcher pulls at its own pace; a watcher that
// falls out of the ring ends with a CompactedError instead of skipping events.
type Hub struct {
	mu      sync.Mutex
	ring    []registry.Event // ring[start:] then ring[:start], oldest first
	start   int
	size    int
	last    int64 // revision of the newest published event (or the floor)
	floor   int64 // revisions <= floor are not in the ring
	changed chan struct{}
	closed  bool
}

// NewHub returns a hub that keeps history events and starts at revision rev.
func NewHub(history int, rev int64) *Hub {
	if history <= 0 {
		history = DefaultHistory
	}
	return &Hub{ring: make([]registry.Event, history), last: rev, floor: rev, changed: make(chan struct{})}
}

// Publish appends events in revision order and wakes watchers.
func (h *Hub) Publish(events ...registry.Event) {
	if len(events) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for _, e := range events {
		if e.Revision < h.last {
			continue // already published (replayed on reconnect)
		}
		// Equal revisions are allowed: one etcd transaction can change
		// several keys at one revision.
		if h.size == len(h.ring) {
			h.floor = h.ring[h.start].Revision
			h.ring[h.start] = e
			h.start = (h.start + 1) % len(h.ring)
		} else {
			h.ring[(h.start+h.size)%len(h.ring)] = e
			h.size++
		}
		h.last = e.Revision
	}
	close(h.changed)
	h.changed = make(chan struct{})
}

// Advance moves the published revision forward without an event, so that
// "watch from now" starts after it.
func (h *Hub) Advance(rev int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev > h.last {
		h.last = rev
		if h.size == 0 {
			h.floor = rev
		}
	}
}

// Reset drops the history and moves to rev: every watcher that has not
// reached rev ends with a CompactedError and must list again. The etcd
// store uses it when its own watch lost events.
func (h *Hub) Reset(rev int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.start, h.size = 0, 0
	h.last, h.floor = max(h.last, rev), max(h.last, rev)
	close(h.changed)
	h.changed = make(chan struct{})
}

// WaitFor blocks until revision rev was published or ctx ends.
func (h *Hub) WaitFor(ctx context.Context, rev int64) error {
	for {
		h.mu.Lock()
		last, changed, closed := h.last, h.changed, h.closed
		h.mu.Unlock()
		switch {
		case last >= rev:
			return nil
		case closed:
			return registry.ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Last is the newest published revision.
func (h *Hub) Last() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Close ends every watcher with registry.ErrClosed.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.changed)
	}
}

// since copies up to max events after rev; it reports compaction and returns
// the channel that is closed on the next publish.
func (h *Hub) since(rev int64, limit int) ([]registry.Event, <-chan struct{}, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, registry.ErrClosed
	}
	if rev < h.floor {
		return nil, nil, &registry.CompactedError{Requested: rev, Oldest: h.floor + 1}
	}
	at := func(i int) *registry.Event { return &h.ring[(h.start+i)%len(h.ring)] }
	first := sort.Search(h.size, func(i int) bool { return at(i).Revision > rev })
	n := min(h.size-first, limit)
	out := make([]registry.Event, n)
	for i := range n {
		out[i] = *at(first + i)
	}
	return out, h.changed, nil
}

// Watch starts a watcher delivering events after from (0: after the newest).
func (h *Hub) Watch(ctx context.Context, from int64, f registry.WatchFilter) (registry.Watcher, error) {
	if from == 0 {
		from = h.Last()
	}
	// Check the start point now so a compacted revision is an error of Watch
	// itself, not of the first receive.
	if _, _, err := h.since(from, 0); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{hub: h, cursor: from, filter: f, ch: make(chan registry.Event, 64), cancel: cancel, done: make(chan struct{})}
	w.progress.Store(from)
	go w.run(ctx)
	return w, nil
}

type watcher struct {
	hub      *Hub
	cursor   int64
	progress atomic.Int64
	filter   registry.WatchFilter
	ch       chan registry.Event
	cancel   context.CancelFunc
	done     chan struct{}
	err      error
}

func (w *watcher) run(ctx context.Context) {
	// done first, so that Err already answers when a reader sees the
	// channel closed.
	defer close(w.ch)
	defer close(w.done)
	for {
		batch, changed, err := w.hub.since(w.cursor, 256)
		if err != nil {
			w.err = err
			return
		}
		for _, e := range batch {
			if w.filter.Match(&e) {
				select {
				case w.ch <- e:
				case <-ctx.Done():
					return
				}
			}
			w.cursor = e.Revision
			w.progress.Store(e.Revision)
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

func (w *watcher) Events() <-chan registry.Event { return w.ch }

func (w *watcher) Progress() int64 { return w.progress.Load() }

func (w *watcher) Err() error {
	select {
	case <-w.done:
		return w.err
	default:
		return nil
	}
}

func (w *watcher) Stop() {
	w.cancel()
	<-w.done
}

var _ registry.Watcher = (*watcher)(nil)
