package zookeeper

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
)

// TestCopiesComeBackAfterForcedSessionExpiries is the check: ten
// times the sink's session is expired (taken over and closed from a
// second connection, the known trick: the server ends it as it ends an
// expired one, deleting its ephemeral nodes at once), and every copy must
// be back, held by the sink's new session, within the session timeout
// plus 2 s of the expiry (timed from before the takeover). go-zookeeper gets a new session by itself but leaves the
// nodes gone; the sink's keeper writes them again. A copy withheld as
// DOWN stays without a node.
func TestCopiesComeBackAfterForcedSessionExpiries(t *testing.T) {
	srv := zookeepertest.Start(t)
	var sessions zookeepertest.Sessions
	c := newTestConnector(t, srv, "syncer-a")
	c.dialer = sessions.Dial
	var copies []*registry.Instance
	for s := range 4 {
		for i := range 5 {
			cp := copyOf(fmt.Sprintf("exp-%d", s), fmt.Sprintf("exp-%d-%d", s, i), "syncer-a", 20000+10*s+i)
			put(t, c, cp)
			copies = append(copies, cp)
		}
	}
	down := copyOf("exp-0", "exp-0-down", "syncer-a", 20100)
	down.Status = registry.StatusDown
	put(t, c, down)

	observer := srv.Connect(t, 10*testSessionTimeout)
	bound := testSessionTimeout + 2*time.Second
	var slowest time.Duration
	for round := 1; round <= 10; round++ {
		if last := sessions.Last(); last.ID == 0 || last.ID != c.sinkSession() {
			t.Fatalf("round %d: recorded session 0x%x, the sink holds 0x%x", round, last.ID, c.sinkSession())
		}
		start := time.Now()
		old := srv.ExpireLast(t, &sessions)
		poll.UntilNil(t, fmt.Sprintf("round %d: all %d copies back in a new session", round, len(copies)), func() error {
			current := c.sinkSession()
			if current == old.ID || current == 0 {
				return fmt.Errorf("the sink still holds session 0x%x", current)
			}
			for _, cp := range copies {
				_, stat, err := observer.Get(nodePath(c.cfg.Root, cp.Service, cp.ID))
				if err != nil {
					return fmt.Errorf("%s: %w", cp.ID, err)
				}
				if stat.EphemeralOwner != current {
					return fmt.Errorf("%s held by session 0x%x, not the sink's 0x%x", cp.ID, stat.EphemeralOwner, current)
				}
			}
			return nil
		}, poll.Within(bound))
		took := time.Since(start)
		slowest = max(slowest, took)
		t.Logf("round %d: all copies back %v after the expiry", round, took)
		if ok, _, err := observer.Exists(nodePath(c.cfg.Root, down.Service, down.ID)); err != nil || ok {
			t.Fatalf("round %d: the DOWN copy withheld: exists=%v err=%v, want no node", round, ok, err)
		}
	}
	t.Logf("slowest return of all %d copies after an expiry: %v (bound %v)", len(copies), slowest, bound)
	if got := owned(t, c); len(got) != len(copies)+1 {
		t.Errorf("owned after the expiries: %s; want the %d copies and the withheld one", ids(got), len(copies))
	}
}

// sinkSession is the session the sink's connection holds now (0 before
// the sink dialled).
func (c *Connector) sinkSession() int64 {
	c.sink.mu.Lock()
	defer c.sink.mu.Unlock()
	if c.sink.cl == nil {
		return 0
	}
	return c.sink.cl.conn.SessionID()
}

// A peer (same owner id) that took a copy over while this sink's session
// was gone keeps it: the keeper never takes a copy back, only Put does.
func TestKeeperLeavesACopyAPeerTookOver(t *testing.T) {
	srv := zookeepertest.Start(t)
	var sessions zookeepertest.Sessions
	a := newTestConnector(t, srv, "syncer-a")
	a.dialer = sessions.Dial
	cp := copyOf("peer", "peer-1", "syncer-a", 20200)
	put(t, a, cp)
	path := nodePath(a.cfg.Root, cp.Service, cp.ID)

	// The peer writes the node in its own session first, then a's
	// session ends: a's keeper finds the node held by the peer.
	b := newTestConnector(t, srv, "syncer-a")
	func() {
		a.sink.writeMu.Lock() // holds a's keeper off until the peer wrote
		defer a.sink.writeMu.Unlock()
		srv.ExpireLast(t, &sessions)
		put(t, b, cp)
	}()

	observer := srv.Connect(t, 10*testSessionTimeout)
	poll.UntilNil(t, "a's keeper done with its new session", func() error {
		a.sink.mu.Lock()
		defer a.sink.mu.Unlock()
		if _, kept := a.sink.kept[path]; kept {
			return errors.New("a still keeps the copy")
		}
		return nil
	}, poll.Within(within))
	_, stat, err := observer.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	if stat.EphemeralOwner != b.sinkSession() {
		t.Errorf("the copy is held by 0x%x, want the peer's 0x%x", stat.EphemeralOwner, b.sinkSession())
	}
}
