package v2

import (
	"context"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos/config"
	"github.com/meshbridge/meshbridge/registry"
)

// conn is one client transport (one HTTP/2 connection). Nacos assigns the
// connection id per transport, so the unary calls and the bi-stream of one
// gRPC ClientConn share it.
type conn struct {
	id     string
	remote string
	ctx    context.Context
	cancel context.CancelFunc
	out    *outbox

	lastActive atomic.Int64 // unix nanoseconds
	registered atomic.Bool  // after ConnectionSetupRequest
	streaming  atomic.Bool  // a bi-stream is open
	closed     atomic.Bool

	mu            sync.Mutex
	clientVersion string
	// published holds the ephemeral instances this connection registered,
	// per service: one, or a batch.
	published map[registry.ServiceID][]registry.InstanceKey
	// serviceLocks order the publishes of one service (lockService).
	serviceLocks map[registry.ServiceID]*sync.Mutex
	subs         map[subKey]subscription
	// configs maps the store key of each listened config item to the key
	// as the client spelled it (its tenant is echoed in notices).
	configs    map[string]config.Key
	probeSince time.Time
}

// subscription is one SubscribeServiceRequest: the names as the client gave
// them, because the pushes must repeat them for the client's cache key.
type subscription struct {
	sid       registry.ServiceID
	namespace string
	group     string
	service   string
	clusters  string
}

type subKey struct {
	sid      registry.ServiceID
	service  string
	clusters string
}

func (s subscription) key() subKey {
	return subKey{sid: s.sid, service: s.service, clusters: s.clusters}
}

func newConn(parent context.Context, id, remote string) *conn {
	ctx, cancel := context.WithCancel(parent)
	c := &conn{
		id: id, remote: remote, ctx: ctx, cancel: cancel, out: newOutbox(),
		published:    map[registry.ServiceID][]registry.InstanceKey{},
		serviceLocks: map[registry.ServiceID]*sync.Mutex{},
		subs:         map[subKey]subscription{},
		configs:      map[string]config.Key{},
	}
	c.touch()
	return c
}

func (c *conn) touch() { c.lastActive.Store(time.Now().UnixNano()) }

func (c *conn) idleSince() time.Time { return time.Unix(0, c.lastActive.Load()) }

// publishedKeys returns every instance key the connection holds.
func (c *conn) publishedKeys() []registry.InstanceKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []registry.InstanceKey
	for _, keys := range c.published {
		out = append(out, keys...)
	}
	return out
}

// publishedOf returns a copy of what the connection holds for a service
// (renewLeases rewrites the slices in place).
func (c *conn) publishedOf(sid registry.ServiceID) []registry.InstanceKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.published[sid])
}

// lockService takes the connection's lock of one service and returns its
// release: one publish of a service at a time, so that each replaces the
// one before it whole.
func (c *conn) lockService(sid registry.ServiceID) func() {
	c.mu.Lock()
	l := c.serviceLocks[sid]
	if l == nil {
		l = &sync.Mutex{}
		c.serviceLocks[sid] = l
	}
	c.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// connTracker remembers the net.Conn behind each remote address so the
// server can cut a transport whose client stopped answering.
type connTracker struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]net.Conn
}

func (t *connTracker) Accept() (net.Conn, error) {
	nc, err := t.Listener.Accept()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.conns[nc.RemoteAddr().String()] = nc
	t.mu.Unlock()
	return nc, nil
}

func (t *connTracker) forget(remote string) {
	t.mu.Lock()
	delete(t.conns, remote)
	t.mu.Unlock()
}

// cut closes the transport of remote, if known.
func (t *connTracker) cut(remote string) {
	t.mu.Lock()
	nc := t.conns[remote]
	delete(t.conns, remote)
	t.mu.Unlock()
	if nc != nil {
		nc.Close() // the transport is being discarded; a close error changes nothing
	}
}
