package zookeeper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// nodeOf reads a node's record and the session holding it.
func nodeOf(t *testing.T, conn *zk.Conn, path string) (*record, int64) {
	t.Helper()
	data, stat, err := conn.Get(path)
	if err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	rec, err := decodeRecord(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rec, stat.EphemeralOwner
}

func exists(t *testing.T, conn *zk.Conn, path string) bool {
	t.Helper()
	ok, _, err := conn.Exists(path)
	if err != nil {
		t.Fatalf("exists %s: %v", path, err)
	}
	return ok
}

// A syncer killed and started again finds its copies still held by its
// earlier session, which ends a session timeout later. Owned lists them
// (they are its copies, to keep or delete), and Put takes each over in
// one transaction: the copy outlives the earlier session.
func TestPutTakesOverACopyAnEarlierRunLeft(t *testing.T) {
	srv := zookeepertest.Start(t)
	observer := srv.Connect(t, 10*testSessionTimeout)
	cp := copyOf("takeover", "takeover-1", "syncer-a", 20300)
	path := nodePath(NewConfig().Root, cp.Service, cp.ID)

	first := newTestConnector(t, srv, "syncer-a")
	put(t, first, cp)
	earlier := first.sinkSession()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := first.Close(ctx, false); err != nil { // as a kill -9 leaves it: the session not closed
		t.Fatal(err)
	}
	if _, holder := nodeOf(t, observer, path); holder != earlier {
		t.Fatalf("after the first run: held by 0x%x, want its session 0x%x left open", holder, earlier)
	}

	second := newTestConnector(t, srv, "syncer-a")
	if got := owned(t, second); ids(got) != "takeover/takeover-1" {
		t.Errorf("owned lists %q, want the copy the earlier session holds", ids(got))
	}
	put(t, second, cp)
	if _, holder := nodeOf(t, observer, path); holder != second.sinkSession() {
		t.Fatalf("after the put: held by 0x%x, want the new session 0x%x", holder, second.sinkSession())
	}
	time.Sleep(2 * testSessionTimeout) // the server's clock ends the earlier session: nothing to poll for
	if !exists(t, observer, path) {
		t.Fatal("the copy went with the earlier session")
	}
	if got := owned(t, second); ids(got) != "takeover/takeover-1" {
		t.Errorf("owned %s, want the copy taken over", ids(got))
	}
}

// A node at a copy's path that is not this syncer's copy (an app that
// registered the same id, another syncer's copy) is never overwritten or
// deleted, and Owned does not list it.
func TestAnotherOwnersNodeIsNeverTouched(t *testing.T) {
	srv := zookeepertest.Start(t)
	apps := srv.Connect(t, 10*testSessionTimeout)
	root := NewConfig().Root
	app := &registry.Instance{Service: "shared", ID: "shared-1", Host: "10.0.0.1", Port: 8080, Metadata: map[string]string{"team": "a"}}
	registerApp(t, apps, root, app)
	path := nodePath(root, app.Service, app.ID)
	before, _, err := apps.Get(path)
	if err != nil {
		t.Fatal(err)
	}

	c := newTestConnector(t, srv, "syncer-a")
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	err = c.Put(ctx, copyOf("shared", "shared-1", "syncer-a", 9999))
	if err == nil || !strings.Contains(err.Error(), `put shared/shared-1: the node is not a copy of this syncer`) {
		t.Errorf("put over an app's node: %v", err)
	}
	if err := c.Delete(ctx, copyOf("shared", "shared-1", "syncer-a", 9999)); err != nil {
		t.Errorf("delete where an app's node is: %v, want nil (no copy of ours there)", err)
	}
	after, _, err := apps.Get(path)
	if err != nil || string(after) != string(before) {
		t.Fatalf("the app's node changed: %q, %v", after, err)
	}
	if got := owned(t, c); len(got) != 0 {
		t.Errorf("owned lists %s", ids(got))
	}
}

// How a copy that is not selectable is written, per downAs.
func TestDownAs(t *testing.T) {
	srv := zookeepertest.Start(t)
	observer := srv.Connect(t, 10*testSessionTimeout)
	tests := []struct {
		mode       string
		edit       func(*registry.Instance)
		wantNode   bool
		wantStatus string // instance_status on the node
	}{
		{DownAbsent, func(i *registry.Instance) { i.Status = registry.StatusDown }, false, ""},
		{DownAbsent, func(i *registry.Instance) { i.Health = registry.HealthCritical }, false, ""},
		{DownAbsent, func(i *registry.Instance) { i.Disabled = true }, false, ""},
		{DownAbsent, func(i *registry.Instance) { i.Health = registry.HealthWarning }, true, "UP"},
		{DownMark, func(i *registry.Instance) { i.Status = registry.StatusDown }, true, "DOWN"},
		{DownMark, func(i *registry.Instance) { i.Status = registry.StatusStarting }, true, "STARTING"},
		{DownMark, func(i *registry.Instance) { i.Health = registry.HealthCritical }, true, "DOWN"},
		{DownMark, func(i *registry.Instance) { i.Disabled = true }, true, "OUT_OF_SERVICE"},
	}
	for n, tt := range tests {
		t.Run(fmt.Sprintf("%s-%d", tt.mode, n), func(t *testing.T) {
			c := newTestConnector(t, srv, "syncer-a", func(cfg *Config) { cfg.DownAs = tt.mode })
			cp := copyOf(fmt.Sprintf("down-%d", n), fmt.Sprintf("down-%d-1", n), "syncer-a", 20400+n)
			path := nodePath(c.cfg.Root, cp.Service, cp.ID)
			put(t, c, cp) // selectable first: the node is there
			down := cp.Clone()
			tt.edit(down)
			put(t, c, down)
			if got := exists(t, observer, path); got != tt.wantNode {
				t.Fatalf("node exists=%v, want %v", got, tt.wantNode)
			}
			if tt.wantNode {
				if rec, _ := nodeOf(t, observer, path); rec.Payload.Metadata[MetaInstanceStatus] != tt.wantStatus {
					t.Errorf("instance_status %q, want %q", rec.Payload.Metadata[MetaInstanceStatus], tt.wantStatus)
				}
			}
			got := owned(t, c)
			if len(got) != 1 || got[0].Status != down.Status || got[0].Health != down.Health || got[0].Disabled != down.Disabled {
				t.Fatalf("owned %+v, want the copy as put", got)
			}
			put(t, c, cp) // selectable again
			if !exists(t, observer, path) {
				t.Fatal("no node once the copy is selectable again")
			}
		})
	}
}

// Close without remove leaves the copies to a peer until the session
// times out; with remove they go at once.
func TestCloseLeavesOrRemovesTheCopies(t *testing.T) {
	srv := zookeepertest.Start(t)
	observer := srv.Connect(t, 10*testSessionTimeout)
	for _, remove := range []bool{false, true} {
		t.Run(fmt.Sprintf("remove=%v", remove), func(t *testing.T) {
			c, err := newConnector(testConfig(srv), registrysync.Env{Name: "zk", Owner: "syncer-c"})
			if err != nil {
				t.Fatal(err)
			}
			cp := copyOf("closing", fmt.Sprintf("closing-%v", remove), "syncer-c", 20500)
			put(t, c, cp)
			ctx, cancel := context.WithTimeout(context.Background(), within)
			defer cancel()
			if err := c.Close(ctx, remove); err != nil {
				t.Fatal(err)
			}
			path := nodePath(c.cfg.Root, cp.Service, cp.ID)
			if remove {
				if exists(t, observer, path) {
					t.Fatal("the copy outlived Close(remove)")
				}
				return
			}
			if !exists(t, observer, path) {
				t.Fatal("Close without remove took the copy at once; a peer has no time to take it over")
			}
			eventually(t, "the copy gone with the abandoned session", func() error {
				if exists(t, observer, path) {
					return errors.New("still there")
				}
				return nil
			})
			if err := c.Put(ctx, cp); !errors.Is(err, errClosed) {
				t.Errorf("put after close: %v, want %v", err, errClosed)
			}
		})
	}
}

// A copy the target cannot hold gets an error naming the pair's record,
// and nothing is written.
func TestPutRefusesWhatZooKeeperCannotHold(t *testing.T) {
	srv := zookeepertest.Start(t)
	c := newTestConnector(t, srv, "syncer-a")
	tests := []struct {
		name string
		inst *registry.Instance
		want string
	}{
		{"slash", copyOf("a/b", "x", "syncer-a", 1), "put a/b/x: service name: contains '/'"},
		{"long id", copyOf("svc", strings.Repeat("i", 300), "syncer-a", 1), "instance id: longer than 255 bytes"},
		{"other owner", copyOf("svc", "svc-1", "syncer-b", 1), `the copy is marked for owner "syncer-b", not "syncer-a"`},
		{"huge", func() *registry.Instance {
			i := copyOf("svc", "svc-2", "syncer-a", 1)
			i.Metadata["blob"] = strings.Repeat("x", maxRecordBytes)
			return i
		}(), "more than the 524288 a node may hold here"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Put(ctx, tt.inst)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if got := owned(t, c); len(got) != 0 {
		t.Errorf("owned %s after refused puts", ids(got))
	}
}

// Owned is complete or an error: with ZooKeeper gone it fails, it does
// not answer with nothing.
func TestOwnedFailsWhileZooKeeperIsDown(t *testing.T) {
	srv := zookeepertest.Start(t)
	c := newTestConnector(t, srv, "syncer-a")
	put(t, c, copyOf("gone", "gone-1", "syncer-a", 20600))
	srv.Kill(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got, err := c.Owned(ctx)
	if err == nil {
		t.Fatalf("owned with ZooKeeper down answered %s and no error", ids(got))
	}
}

// Put is idempotent: the same copy put again changes nothing on the node.
func TestPutAgainChangesNothing(t *testing.T) {
	srv := zookeepertest.Start(t)
	observer := srv.Connect(t, 10*testSessionTimeout)
	c := newTestConnector(t, srv, "syncer-a")
	cp := copyOf("idem", "idem-1", "syncer-a", 20700)
	put(t, c, cp)
	path := nodePath(c.cfg.Root, cp.Service, cp.ID)
	_, before, err := observer.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	put(t, c, cp)
	data, after, err := observer.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != before.Version || after.Mzxid != before.Mzxid {
		t.Errorf("the node was written again: version %d -> %d", before.Version, after.Version)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil || rec["serviceType"] != "DYNAMIC" {
		t.Errorf("record %s", data)
	}
}

// The copies gauges, labelled with the registry's name; a connector built
// again for the same registry counts on the same metrics.
func TestMetricsCountCopies(t *testing.T) {
	srv := zookeepertest.Start(t)
	reg := prometheus.NewRegistry()
	env := registrysync.Env{Name: "legacy-zk", Owner: "syncer-a", Metrics: reg}
	c, err := newConnector(testConfig(srv), env)
	if err != nil {
		t.Fatal(err)
	}
	connectortest.CloseOnCleanup(t, c, true)
	if _, err := newConnector(testConfig(srv), env); err != nil {
		t.Fatalf("a second connector for the registry: %v", err)
	}
	put(t, c, copyOf("metrics", "metrics-1", "syncer-a", 20800))
	down := copyOf("metrics", "metrics-2", "syncer-a", 20801)
	down.Status = registry.StatusDown
	put(t, c, down)
	want := `
# HELP meshbridge_registrysync_zookeeper_copies Copies the sink keeps, by state (kept: a node of its session; withheld: not selectable, no node, downAs absent).
# TYPE meshbridge_registrysync_zookeeper_copies gauge
meshbridge_registrysync_zookeeper_copies{registry="legacy-zk",state="kept"} 1
meshbridge_registrysync_zookeeper_copies{registry="legacy-zk",state="withheld"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "meshbridge_registrysync_zookeeper_copies"); err != nil {
		t.Error(err)
	}
}
