package zookeeper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
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

// keptCopy is a copy the sink keeps alive: the instance as the engine put
// it and the record its node holds.
type keptCopy struct {
	inst       *registry.Instance
	data       []byte
	registered time.Time
}

// writeAttempts bounds the retries of one write that races with other
// writers of the same node (a version changed between read and write).
const writeAttempts = 5

// errTakenOver says another session holds a copy's node: after this
// sink's session expired, a peer with the same owner id wrote it.
var errTakenOver = errors.New("held by another session")

// sink is the Connector's half that writes copies. Its session holds
// them; a keeper goroutine writes them again in every new session.
type sink struct {
	mu       sync.Mutex
	cl       *client
	kept     map[string]*keptCopy          // node path -> copy with a node
	withheld map[string]*registry.Instance // node path -> copy kept without a node (downAs: remove)

	// writeMu is shared by Put and Delete and held alone by a re-creation
	// pass, so that a pass sees every copy written before it began.
	writeMu sync.RWMutex
	// paths serialises the writes of one node (Put and Delete of a copy).
	paths [64]sync.Mutex
	seed  maphash.Seed

	renew      chan struct{} // a session was granted
	keeperDone chan struct{}
}

func newSink() sink {
	return sink{
		kept: map[string]*keptCopy{}, withheld: map[string]*registry.Instance{},
		seed: maphash.MakeSeed(), renew: make(chan struct{}, 1), keeperDone: make(chan struct{}),
	}
}

// countCopiesLocked sets the copies gauges; the caller holds sink.mu.
func (c *Connector) countCopiesLocked() {
	c.metrics.copies.WithLabelValues("kept").Set(float64(len(c.sink.kept)))
	c.metrics.copies.WithLabelValues("withheld").Set(float64(len(c.sink.withheld)))
}

func (c *Connector) lockPath(path string) func() {
	m := &c.sink.paths[maphash.String(c.sink.seed, path)%uint64(len(c.sink.paths))]
	m.Lock()
	return m.Unlock
}

// sinkClient returns the sink's connection once it holds a session,
// dialling it on first use.
func (c *Connector) sinkClient(ctx context.Context) (*client, error) {
	s := &c.sink
	s.mu.Lock()
	select {
	case <-c.closed:
		s.mu.Unlock()
		return nil, errClosed
	default:
	}
	if s.cl == nil {
		cl, err := dial(c.cfg, c.dialer, c.logger, func(ev zk.Event) {
			if ev.Type != zk.EventSession {
				return
			}
			switch ev.State {
			case zk.StateExpired:
				c.metrics.expiries.Inc()
				c.logger.Warn("zookeeper sink session expired; its copies are gone until the new session writes them again")
			case zk.StateHasSession:
				select {
				case s.renew <- struct{}{}:
				default:
				}
			}
		})
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.cl = cl
		go c.keep(cl)
	}
	cl := s.cl
	s.mu.Unlock()
	if err := cl.waitSession(ctx); err != nil {
		return nil, err
	}
	return cl, nil
}

// keep writes every kept copy again whenever the connection holds a new
// session: the nodes of an expired session are gone, and go-zookeeper
// does not bring them back.
func (c *Connector) keep(cl *client) {
	defer close(c.sink.keeperDone)
	backoff := wait.Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	var done int64 // the session every kept copy was last written in
	failing := false
	for {
		select {
		case <-c.closed:
			return
		case <-c.sink.renew:
		}
		sid := cl.conn.SessionID()
		if sid == 0 || sid == done {
			continue // a reconnection within the session: its nodes are there
		}
		start := time.Now()
		n, err := c.recreate(cl)
		if c.life.Err() != nil {
			return // closed under the pass: nothing is kept any more
		}
		if err != nil {
			// One warning per run of failures; the retries say it at debug level.
			level := slog.LevelWarn
			if failing {
				level = slog.LevelDebug
			}
			c.logger.Log(c.life, level, "zookeeper copies not all written again in the new session; retrying",
				"session", fmt.Sprintf("0x%x", sid), "error", err)
			failing = true
			if !backoff.Wait(c.life) {
				return
			}
			select {
			case c.sink.renew <- struct{}{}:
			default:
			}
			continue
		}
		backoff.Reset()
		done, failing = sid, false
		if n > 0 {
			took := time.Since(start)
			c.metrics.recreated.Add(float64(n))
			c.metrics.recreateSeconds.Observe(took.Seconds())
			c.logger.Info("zookeeper copies written again in a new session",
				"session", fmt.Sprintf("0x%x", sid), "copies", n, "took", took)
		}
	}
}

// recreate writes every kept copy whose node the current session does not
// hold. A node another session holds now (a peer took the copy over
// after this sink's session expired) is the peer's: the copy is dropped
// from the kept ones rather than taken back.
func (c *Connector) recreate(cl *client) (int, error) {
	s := &c.sink
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	paths := slices.Collect(maps.Keys(s.kept))
	data := make(map[string][]byte, len(paths))
	for _, p := range paths {
		data[p] = s.kept[p].data
	}
	s.mu.Unlock()
	var (
		mu      sync.Mutex
		written int
	)
	err := forEach(c.life, slices.Collect(slices.Chunk(paths, recreateBatch)), func(batch []string) error {
		if c.createAll(cl, batch, data) {
			mu.Lock()
			written += len(batch)
			mu.Unlock()
			return nil
		}
		for _, p := range batch { // one of them is there, or its service is not: one by one
			created, err := c.writeNode(cl, p, data[p], false)
			switch {
			case errors.Is(err, errTakenOver):
				c.logger.Warn("zookeeper copy left to the session that holds it now", "path", p)
				s.mu.Lock()
				delete(s.kept, p)
				c.countCopiesLocked()
				s.mu.Unlock()
				c.metrics.takenOver.Inc()
				continue
			case err != nil:
				return err
			}
			if created {
				mu.Lock()
				written++
				mu.Unlock()
			}
		}
		return nil
	})
	return written, err
}

// recreateBatch is how many copies one transaction writes again after an
// expiry: ZooKeeper syncs its log once per transaction, so ten thousand
// copies one by one take seconds where a hundred transactions take a
// fraction of one. A hundred records stay far below a request's 1 MiB.
const recreateBatch = 100

// createAll creates the nodes of paths in one transaction; false when
// any could not be (one exists, a folder is missing, the session ended),
// and then none was.
func (c *Connector) createAll(cl *client, paths []string, data map[string][]byte) bool {
	ops := make([]any, len(paths))
	for i, p := range paths {
		ops[i] = &zk.CreateRequest{Path: p, Data: data[p], Acl: openACL, Flags: zk.FlagEphemeral}
	}
	res, err := cl.conn.Multi(ops...)
	if err != nil {
		return false
	}
	for _, r := range res {
		if r.Error != nil {
			return false
		}
	}
	return true
}

// writeNode makes path an ephemeral node of cl's session holding data:
// it creates it (and its parents), or updates the node the session
// holds, or, with takeOver set, replaces in one transaction a node of
// this owner that another session holds (the syncer's earlier run, whose
// session has not ended yet), so that consumers never see it missing. A
// node that is not this owner's copy is never touched. It reports
// whether it created the node.
func (c *Connector) writeNode(cl *client, path string, data []byte, takeOver bool) (bool, error) {
	for range writeAttempts {
		_, err := cl.conn.Create(path, data, zk.FlagEphemeral, openACL)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, zk.ErrNoNode):
			if err := ensureParents(cl, path); err != nil {
				return false, err
			}
			continue
		case !errors.Is(err, zk.ErrNodeExists):
			return false, err
		}
		cur, stat, err := cl.conn.Get(path)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return false, err
		}
		if stat.EphemeralOwner == cl.conn.SessionID() {
			if bytes.Equal(cur, data) {
				return false, nil
			}
			_, err := cl.conn.Set(path, data, stat.Version)
			if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) {
				continue
			}
			return false, err
		}
		if !c.owns(cur) {
			return false, errors.New("the node is not a copy of this syncer (an app registered this id itself?)")
		}
		if !takeOver {
			return false, errTakenOver
		}
		_, err = cl.conn.Multi(
			&zk.DeleteRequest{Path: path, Version: stat.Version},
			&zk.CreateRequest{Path: path, Data: data, Acl: openACL, Flags: zk.FlagEphemeral},
		)
		if errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) {
			continue
		}
		return err == nil, err
	}
	return false, fmt.Errorf("the node kept changing under %d attempts", writeAttempts)
}

// ensureParents creates the folders above path that are missing, as
// Curator does for Spring: container nodes, which the server removes once
// their last child is gone.
func ensureParents(cl *client, path string) error {
	for i := 1; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		_, err := cl.conn.CreateContainer(path[:i], nil, zk.FlagContainer, openACL)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", path[:i], err)
		}
	}
	return nil
}

// owns reports whether a node's data is a copy with this syncer's id.
func (c *Connector) owns(data []byte) bool {
	rec, err := decodeRecord(data)
	return err == nil && rec.Payload != nil && rec.Payload.Metadata[registrysync.MetaOwner] == c.env.Owner
}

// removeNode deletes path if it is this owner's copy; a node already
// gone, or another's (left alone, and logged), is not an error.
func (c *Connector) removeNode(cl *client, path string) error {
	for range writeAttempts {
		data, stat, err := cl.conn.Get(path)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return err
		}
		if !c.owns(data) {
			c.logger.Warn("zookeeper node left in place: not a copy of this syncer", "path", path)
			return nil
		}
		err = cl.conn.Delete(path, stat.Version)
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if !errors.Is(err, zk.ErrBadVersion) {
			return err
		}
	}
	return fmt.Errorf("the node kept changing under %d attempts", writeAttempts)
}

// Put implements registrysync.Sink.
func (c *Connector) Put(ctx context.Context, inst *registry.Instance) error {
	fail := func(err error) error { return fmt.Errorf("zookeeper: put %s/%s: %w", inst.Service, inst.ID, err) }
	if owner := inst.Metadata[registrysync.MetaOwner]; owner != c.env.Owner {
		return fail(fmt.Errorf("the copy is marked for owner %q, not %q", owner, c.env.Owner))
	}
	if err := checkCopy(inst); err != nil {
		return fail(err)
	}
	cl, err := c.sinkClient(ctx)
	if err != nil {
		return fail(err)
	}
	s := &c.sink
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	path := nodePath(c.cfg.Root, inst.Service, inst.ID)
	defer c.lockPath(path)()
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if !selectable(inst) && c.cfg.DownAs == DownAbsent {
		if err := c.removeNode(cl, path); err != nil {
			return fail(err)
		}
		s.mu.Lock()
		delete(s.kept, path)
		s.withheld[path] = inst.Clone()
		c.countCopiesLocked()
		s.mu.Unlock()
		return nil
	}
	registered := time.Now()
	s.mu.Lock()
	if prev := s.kept[path]; prev != nil {
		registered = prev.registered // a copy updated keeps its registration time
	}
	s.mu.Unlock()
	rec, err := toRecord(inst, registered)
	if err != nil {
		return fail(err)
	}
	data, err := rec.encode()
	if err != nil {
		return fail(err)
	}
	if len(data) > maxRecordBytes {
		return fail(fmt.Errorf("record of %d bytes, more than the %d a node may hold here", len(data), maxRecordBytes))
	}
	if _, err := c.writeNode(cl, path, data, true); err != nil {
		return fail(err)
	}
	s.mu.Lock()
	s.kept[path] = &keptCopy{inst: inst.Clone(), data: data, registered: registered}
	delete(s.withheld, path)
	c.countCopiesLocked()
	s.mu.Unlock()
	return nil
}

// Delete implements registrysync.Sink.
func (c *Connector) Delete(ctx context.Context, inst *registry.Instance) error {
	if validName(inst.Service) != nil || validName(inst.ID) != nil {
		return nil // never written: no node can have this name
	}
	cl, err := c.sinkClient(ctx)
	if err != nil {
		return fmt.Errorf("zookeeper: delete %s/%s: %w", inst.Service, inst.ID, err)
	}
	s := &c.sink
	s.writeMu.RLock()
	defer s.writeMu.RUnlock()
	path := nodePath(c.cfg.Root, inst.Service, inst.ID)
	defer c.lockPath(path)()
	s.mu.Lock()
	delete(s.kept, path)
	delete(s.withheld, path)
	c.countCopiesLocked()
	s.mu.Unlock()
	if err := c.removeNode(cl, path); err != nil {
		return fmt.Errorf("zookeeper: delete %s/%s: %w", inst.Service, inst.ID, err)
	}
	return nil
}

// Owned implements registrysync.Sink: the nodes below the root that
// carry this syncer's id, and the copies withheld without a node. A node
// that another session holds (an earlier run of the syncer, killed, whose
// session has not timed out yet) is listed too: it dies with that
// session unless the engine puts it, and Put takes it over without a gap
// (the engine puts every copy once per process into a sink that cannot
// adopt). Listed, it can also be deleted, and the breaker counts that.
func (c *Connector) Owned(ctx context.Context) ([]*registry.Instance, error) {
	fail := func(err error) ([]*registry.Instance, error) { return nil, fmt.Errorf("zookeeper: owned: %w", err) }
	cl, err := c.sinkClient(ctx)
	if err != nil {
		return fail(err)
	}
	sid := cl.conn.SessionID()
	services, _, err := cl.conn.Children(c.cfg.Root)
	if err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fail(wrapRead(c.cfg.Root, err))
	}
	var (
		mu  sync.Mutex
		out []*registry.Instance
	)
	err = forEach(ctx, services, func(svc string) error {
		found, err := c.ownedIn(cl, svc)
		mu.Lock()
		out = append(out, found...)
		mu.Unlock()
		return err
	})
	if err != nil {
		return fail(err)
	}
	if cl.conn.SessionID() != sid {
		return fail(errors.New("the session changed during the listing"))
	}
	s := &c.sink
	s.mu.Lock()
	for _, inst := range s.withheld {
		out = append(out, inst.Clone())
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *registry.Instance) int {
		return strings.Compare(a.Service+"/"+a.ID, b.Service+"/"+b.ID)
	})
	return out, nil
}

// ownedIn lists the copies of one service that Owned reports.
func (c *Connector) ownedIn(cl *client, svc string) ([]*registry.Instance, error) {
	path := c.cfg.Root + "/" + svc
	ids, _, err := cl.conn.Children(path)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, wrapRead(path, err)
	}
	var out []*registry.Instance
	for _, id := range ids {
		p := path + "/" + id
		data, stat, err := cl.conn.Get(p)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return out, wrapRead(p, err)
		}
		c.sink.mu.Lock()
		kc := c.sink.kept[p]
		c.sink.mu.Unlock()
		if kc != nil && bytes.Equal(kc.data, data) {
			out = append(out, kc.inst.Clone()) // exactly what was put
			continue
		}
		rec, err := decodeRecord(data)
		if err != nil {
			continue
		}
		inst, err := toInstance(svc, id, rec, stat.EphemeralOwner != 0)
		if err == nil && inst.Metadata[registrysync.MetaOwner] == c.env.Owner {
			out = append(out, inst)
		}
	}
	return out, nil
}
