package v2

import (
	"sync"
	"time"
)

// message is one server-to-client request waiting to be sent, or sent and
// waiting for the client's acknowledgement.
type message struct {
	// key coalesces messages: a newer one with the same key replaces an
	// unsent older one (a push of a service's latest state makes the
	// previous push pointless).
	key      string
	typ      string
	build    func(requestID string) ([]byte, error)
	attempts int
	sentAt   time.Time
}

// outbox queues the server-initiated requests of one connection. It never
// blocks the producer: pending messages coalesce by key, and one sender
// (the bi-stream handler) drains it.
type outbox struct {
	mu       sync.Mutex
	pending  map[string]*message
	order    []string
	inflight map[string]*message // by request id
	wake     chan struct{}
}

func newOutbox() *outbox {
	return &outbox{pending: map[string]*message{}, inflight: map[string]*message{}, wake: make(chan struct{}, 1)}
}

func (o *outbox) put(m *message) {
	o.mu.Lock()
	if _, queued := o.pending[m.key]; !queued {
		o.order = append(o.order, m.key)
	}
	o.pending[m.key] = m
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// take removes and returns every pending message, oldest key first.
func (o *outbox) take() []*message {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*message, 0, len(o.order))
	for _, k := range o.order {
		out = append(out, o.pending[k])
	}
	clear(o.pending)
	o.order = o.order[:0]
	return out
}

func (o *outbox) sent(requestID string, m *message, now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m.sentAt = now
	o.inflight[requestID] = m
}

// ack settles a sent message; false if the id was unknown (late or bogus).
func (o *outbox) ack(requestID string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, known := o.inflight[requestID]
	delete(o.inflight, requestID)
	return known
}

// retry requeues messages unacknowledged after timeout, unless a newer
// message with the same key is already queued; it returns how many were
// given up after maxAttempts.
func (o *outbox) retry(now time.Time, timeout time.Duration, maxAttempts int) (requeued, dropped int) {
	o.mu.Lock()
	var again []*message
	for id, m := range o.inflight {
		if now.Sub(m.sentAt) < timeout {
			continue
		}
		delete(o.inflight, id)
		if _, newer := o.pending[m.key]; newer {
			continue
		}
		if m.attempts >= maxAttempts {
			dropped++
			continue
		}
		m.attempts++
		again = append(again, m)
	}
	o.mu.Unlock()
	for _, m := range again {
		o.put(m)
	}
	return len(again), dropped
}

// unacked counts messages sent and not yet acknowledged.
func (o *outbox) unacked() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.inflight)
}
