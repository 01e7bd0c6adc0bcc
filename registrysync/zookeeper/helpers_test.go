package zookeeper

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// testSessionTimeout is the sink's and source's session in the tests:
// short, so that expiries and abandoned sessions end within seconds.
const testSessionTimeout = 2 * time.Second

// within bounds every wait for ZooKeeper to show a change.
const within = 15 * time.Second

func testConfig(srv *zookeepertest.Server) *Config {
	cfg := NewConfig()
	cfg.Servers = []string{srv.Addr}
	cfg.SessionTimeout = testSessionTimeout
	return cfg
}

// newTestConnector builds a connector against srv for owner, closed (its
// copies removed) when the test ends.
func newTestConnector(t *testing.T, srv *zookeepertest.Server, owner string, edit ...func(*Config)) *Connector {
	t.Helper()
	cfg := testConfig(srv)
	for _, e := range edit {
		e(cfg)
	}
	c, err := newConnector(cfg, registrysync.Env{Name: "zk", Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	connectortest.CloseOnCleanup(t, c, true)
	return c
}

// springRecord is the record a Spring Cloud Zookeeper app writes for
// inst, built on the fixture (not on the code under test).
func springRecord(t *testing.T, inst *registry.Instance) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "spring-instance.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	md := map[string]any{"instance_status": "UP"}
	for k, v := range inst.Metadata {
		md[k] = v
	}
	if inst.Status != "" && inst.Status != registry.StatusUp {
		md["instance_status"] = string(inst.Status)
	}
	rec["name"], rec["id"], rec["address"], rec["port"] = inst.Service, inst.ID, inst.Host, inst.Port
	rec["payload"].(map[string]any)["name"] = inst.Service
	rec["payload"].(map[string]any)["metadata"] = md
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// registerApp puts inst under root as a Spring Cloud Zookeeper app does:
// its record in an ephemeral node of conn's session, the folders above
// it created as containers.
func registerApp(t *testing.T, conn *zk.Conn, root string, inst *registry.Instance) {
	t.Helper()
	path := nodePath(root, inst.Service, inst.ID)
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			if _, err := conn.CreateContainer(path[:i], nil, zk.FlagContainer, openACL); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				t.Fatalf("create %s: %v", path[:i], err)
			}
		}
	}
	if _, err := conn.Create(path, springRecord(t, inst), zk.FlagEphemeral, openACL); err != nil {
		t.Fatalf("register %s: %v", path, err)
	}
}

func deregisterApp(t *testing.T, conn *zk.Conn, root string, inst *registry.Instance) {
	t.Helper()
	if err := conn.Delete(nodePath(root, inst.Service, inst.ID), -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		t.Fatalf("deregister %s/%s: %v", inst.Service, inst.ID, err)
	}
}

// eventually waits with poll for cond, within the tests' bound.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	poll.UntilNil(t, what, cond, poll.Within(within))
}

func copyOf(service, id, owner string, port int) *registry.Instance {
	return &registry.Instance{
		Service: service, ID: id, Host: "127.0.0.1", Port: port,
		Status: registry.StatusUp, Health: registry.HealthPassing,
		Metadata: map[string]string{registrysync.MetaOrigin: "mesh", registrysync.MetaOwner: owner, "version": "v1"},
	}
}

func put(t *testing.T, c *Connector, inst *registry.Instance) {
	t.Helper()
	connectortest.Put(t, c, inst)
}

func owned(t *testing.T, c *Connector) []*registry.Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	got, err := c.Owned(ctx)
	if err != nil {
		t.Fatalf("owned: %v", err)
	}
	return got
}

func ids(list []*registry.Instance) string {
	var out []string
	for _, in := range list {
		out = append(out, in.Service+"/"+in.ID)
	}
	return strings.Join(out, ",")
}
