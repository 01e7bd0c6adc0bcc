package config

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Hub watches the config keys of the store and calls listeners on every
// change, whichever protocol (or replica) made it.
type Hub struct {
	store registry.Changes
	log   *slog.Logger

	mu        sync.Mutex
	next      int
	listeners map[int]func(Key)
}

// NewHub returns a hub; Run must be running for listeners to be called.
func NewHub(store registry.Changes, log *slog.Logger) *Hub {
	return &Hub{store: store, log: log, listeners: map[int]func(Key){}}
}

// Listen registers fn until cancel is called. fn gets the changed key, or
// the zero Key when changes may have been missed (every item should be
// checked again). fn must not block.
func (h *Hub) Listen(fn func(Key)) (cancel func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.next
	h.next++
	h.listeners[id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.listeners, id)
	}
}

func (h *Hub) notify(k Key) {
	h.mu.Lock()
	fns := make([]func(Key), 0, len(h.listeners))
	for _, fn := range h.listeners {
		fns = append(fns, fn)
	}
	h.mu.Unlock()
	for _, fn := range fns {
		fn(k)
	}
}

// Run watches until ctx ends. A watch that fell behind the store's history
// starts again from now and tells every listener to check everything.
func (h *Hub) Run(ctx context.Context) error {
	from := h.store.Revision()
	for {
		err := h.watch(ctx, from)
		if ctx.Err() != nil || errors.Is(err, registry.ErrClosed) {
			return nil
		}
		h.log.Warn("config watch restarted", "error", err)
		from = h.store.Revision()
		h.notify(Key{})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (h *Hub) watch(ctx context.Context, from int64) error {
	w, err := h.store.Watch(ctx, from, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindKV}, KeyPrefix: KeyPrefix})
	if err != nil {
		return err
	}
	defer w.Stop()
	for e := range w.Events() {
		if k, ok := ParseStoreKey(e.KV.Key); ok {
			h.notify(k)
		}
	}
	if err := w.Err(); err != nil {
		return err
	}
	return errors.New("watch ended")
}
