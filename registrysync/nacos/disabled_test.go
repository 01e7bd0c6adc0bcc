package nacos_test

import (
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registrysync"
)

// A Nacos server lists no disabled instance to any client, the source's
// subscriptions included; the source finds one it saw in the console's
// catalog and reports it disabled, in its namespace, group and cluster,
// until it is enabled again or leaves.
func TestSourceReportsADisabledInstanceUntilItLeaves(t *testing.T) {
	s := startServer(t)
	app := s.client(t, "dev")
	reg := vo.RegisterInstanceParam{Ip: "10.0.0.9", Port: 18600, Weight: 2, Enable: true, Healthy: true, Ephemeral: true,
		ClusterName: "east", ServiceName: "ledger", GroupName: "blue", Metadata: map[string]string{"version": "v4"}}
	if ok, err := app.RegisterInstance(reg); err != nil || !ok {
		t.Fatalf("register: ok=%v err=%v", ok, err)
	}
	// An app of another service keeps the registry from going empty.
	if ok, err := s.client(t, "dev").RegisterInstance(vo.RegisterInstanceParam{Ip: "10.0.0.9", Port: 18601, Weight: 1,
		Enable: true, Healthy: true, Ephemeral: true, ServiceName: "stays", GroupName: "blue"}); err != nil || !ok {
		t.Fatalf("register stays: ok=%v err=%v", ok, err)
	}
	id := naming.InstanceID("10.0.0.9", 18600, "east", "blue", "ledger")
	cfg := s.config()
	cfg.Namespaces, cfg.Groups = []string{"dev"}, []string{"blue"}
	updates := follow(t, s.connector(t, cfg, "syncer-a"))
	next(t, updates, 10*time.Second, "ledger listed enabled", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return u.Complete && got != nil && !got.Disabled
	})

	setEnabled := func(enabled bool) {
		t.Helper()
		ok, err := app.UpdateInstance(vo.UpdateInstanceParam{Ip: reg.Ip, Port: reg.Port, Weight: reg.Weight, Enable: enabled,
			Healthy: true, Ephemeral: true, ClusterName: reg.ClusterName, ServiceName: reg.ServiceName, GroupName: reg.GroupName,
			Metadata: reg.Metadata})
		if err != nil || !ok {
			t.Fatalf("set enabled=%v: ok=%v err=%v", enabled, ok, err)
		}
	}
	setEnabled(false)
	pushed := next(t, updates, 10*time.Second, "ledger disabled, by push", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return !u.Complete && got != nil && got.Disabled
	})
	got := find(pushed, "ledger", id)
	if got.Namespace != "dev" || got.Group != "blue" || got.Cluster != "east" || got.Weight != 2 || got.Labels["version"] != "v4" || got.Healthy() {
		t.Errorf("disabled instance reported as %+v", got)
	}
	next(t, updates, 10*time.Second, "ledger disabled in a complete listing", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return u.Complete && got != nil && got.Disabled
	})
	setEnabled(true)
	next(t, updates, 10*time.Second, "ledger enabled again", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return got != nil && !got.Disabled && got.Healthy()
	})
	setEnabled(false)
	next(t, updates, 10*time.Second, "ledger disabled again", func(u registrysync.Update) bool {
		got := find(u, "ledger", id)
		return got != nil && got.Disabled
	})
	if ok, err := app.DeregisterInstance(vo.DeregisterInstanceParam{Ip: reg.Ip, Port: reg.Port, Cluster: reg.ClusterName,
		ServiceName: reg.ServiceName, GroupName: reg.GroupName, Ephemeral: true}); err != nil || !ok {
		t.Fatalf("deregister: ok=%v err=%v", ok, err)
	}
	next(t, updates, 10*time.Second, "a complete listing without ledger", func(u registrysync.Update) bool {
		return u.Complete && find(u, "ledger", id) == nil && find(u, "stays", naming.InstanceID("10.0.0.9", 18601, "DEFAULT", "blue", "stays")) != nil
	})
}
