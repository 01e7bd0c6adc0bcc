package zookeeper

import (
	"testing"

	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// TestConformance runs registrysync's connector suite against a real
// ZooKeeper server (Debian's package, started by zookeepertest). Apps
// register as Spring Cloud Zookeeper apps do: their record in an
// ephemeral node of their own session, written with go-zookeeper. The
// copies are ephemeral nodes of the sink's session, so the suite checks
// that they outlive twice the session timeout: the session is kept.
func TestConformance(t *testing.T) {
	srv := zookeepertest.Start(t)
	apps := srv.Connect(t, 10*testSessionTimeout)
	root := NewConfig().Root
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, env registrysync.Env) registrysync.Connector {
			c, err := New(testConfig(srv), env)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Register:   func(t *testing.T, inst *registry.Instance) { registerApp(t, apps, root, inst) },
		Deregister: func(t *testing.T, inst *registry.Instance) { deregisterApp(t, apps, root, inst) },
		Expiry:     testSessionTimeout,
	})
}
