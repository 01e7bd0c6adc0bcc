package consul

import (
	"strings"
	"sync"

	"github.com/meshbridge/meshbridge/registry"
)

// maxTombstones bounds how many deleted keys are remembered for KV indexes;
// past it they collapse into one floor that applies to every prefix.
const maxTombstones = 10000

// maxServiceTopics bounds the per-service topics (queries for names that
// never existed create them too); past it, topics nobody waits on are
// dropped and their indexes folded into the floor, which keeps every
// index monotonic.
const maxServiceTopics = 50000

// notifier turns the store's change stream into per-topic indexes and wake
// channels for blocking queries. A thousand watchers of one service share
// one channel, and a change to another service does not wake them.
//
// Indexes only grow: a topic's index is the revision of its last change
// seen here, never below the floor (the store revision when watching
// started), so deletions and restarts never move X-Consul-Index backwards.
type notifier struct {
	mu       sync.Mutex
	floor    int64
	services map[string]*topic // by service key, in the served namespace
	catalog  topic             // any instance change in the served namespace
	// serviceSet moves only when a service as the catalog shows it changes
	// (added, removed, tags, address, port, meta), not on check status or
	// output, as Consul's services index; nodes moves when a node
	// registered through the catalog may have changed.
	serviceSet topic
	nodes      topic
	kv         topic // any key change
	// tombstones remember when deleted keys went away, so that a prefix
	// whose newest key was deleted still reports a newer index.
	tombstones map[string]int64
	tombFloor  int64
}

// topic is one wake channel and the revision of the last change.
type topic struct {
	rev int64
	ch  chan struct{}
}

func newNotifier() *notifier {
	return &notifier{services: map[string]*topic{}, tombstones: map[string]int64{}}
}

// wait returns the topic's index and a channel closed on its next change.
func (t *topic) wait() (int64, <-chan struct{}) {
	if t.ch == nil {
		t.ch = make(chan struct{})
	}
	return t.rev, t.ch
}

func (t *topic) fire(rev int64) {
	t.rev = max(t.rev, rev)
	if t.ch != nil {
		close(t.ch)
		t.ch = nil
	}
}

// reset raises the floor to rev and wakes everyone, after the stream was
// interrupted and changes may have been missed.
func (n *notifier) reset(rev int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.floor = max(n.floor, rev)
	for key, t := range n.services {
		t.fire(rev)
		delete(n.services, key)
	}
	n.catalog.fire(rev)
	n.serviceSet.fire(rev)
	n.nodes.fire(rev)
	n.kv.fire(rev)
	clear(n.tombstones)
	n.tombFloor = max(n.tombFloor, rev)
}

// instanceChanged records a change to one service; catalogChanged says
// whether the service itself changed, not only its checks, nodesChanged
// whether a node registered through the catalog may have.
func (n *notifier) instanceChanged(serviceKey string, rev int64, catalogChanged, nodesChanged bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.serviceTopicLocked(serviceKey).fire(rev)
	n.catalog.fire(rev)
	if catalogChanged {
		n.serviceSet.fire(rev)
	}
	if nodesChanged {
		n.nodes.fire(rev)
	}
}

// kvChanged records a change to one key.
func (n *notifier) kvChanged(e *registry.Event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.Type == registry.EventDelete {
		if len(n.tombstones) >= maxTombstones {
			for _, rev := range n.tombstones {
				n.tombFloor = max(n.tombFloor, rev)
			}
			clear(n.tombstones)
		}
		n.tombstones[e.KV.Key] = e.Revision
	} else {
		delete(n.tombstones, e.KV.Key)
	}
	n.kv.fire(e.Revision)
}

// service returns the index of a service's last change and its wake channel.
func (n *notifier) service(serviceKey string) (int64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	rev, ch := n.serviceTopicLocked(serviceKey).wait()
	return max(rev, n.floor), ch
}

// catalogTopic returns the index of the last instance change and its wake channel.
func (n *notifier) catalogTopic() (int64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	rev, ch := n.catalog.wait()
	return max(rev, n.floor), ch
}

// serviceSetTopic returns the index of the last change to a service as the
// catalog shows it, and its wake channel.
func (n *notifier) serviceSetTopic() (int64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	rev, ch := n.serviceSet.wait()
	return max(rev, n.floor), ch
}

// nodesTopic returns the index of the node list, and its wake channel.
func (n *notifier) nodesTopic() (int64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	rev, ch := n.nodes.wait()
	return max(rev, n.floor), ch
}

// kvPrefix returns the index contribution of deleted keys under prefix
// (exact key when exact), and the channel woken by any key change.
func (n *notifier) kvPrefix(prefix string, exact bool) (int64, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	idx := max(n.floor, n.tombFloor)
	if exact {
		idx = max(idx, n.tombstones[prefix])
	} else {
		for key, rev := range n.tombstones {
			if rev > idx && strings.HasPrefix(key, prefix) {
				idx = rev
			}
		}
	}
	_, ch := n.kv.wait()
	return idx, ch
}

func (n *notifier) serviceTopicLocked(serviceKey string) *topic {
	t := n.services[serviceKey]
	if t == nil {
		if len(n.services) >= maxServiceTopics {
			for key, old := range n.services {
				if old.ch == nil {
					n.floor = max(n.floor, old.rev)
					delete(n.services, key)
				}
			}
		}
		t = &topic{}
		n.services[serviceKey] = t
	}
	return t
}
