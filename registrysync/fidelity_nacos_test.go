package registrysync_test

import (
	"fmt"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync/legacytest"
)

// Rule 6 for Nacos's enabled flag: a Nacos 2.x server lists and pushes
// enabled instances only, so an app disabled (as Spring Cloud Alibaba's
// serviceregistry endpoint does for status DOWN) vanishes from the
// source's view as if it had left. Its mesh copy must stay, out of
// service (Disabled, not routed), and come back UP when it is enabled
// again; only a real deregistration removes it. The app is a
// nacos-sdk-go client; UpdateInstance re-registers it with enabled=false
// on its connection, as a Nacos 2.x server takes an update.
func TestNacosDisabledInstanceIsAnOutOfServiceCopy(t *testing.T) {
	n := legacytest.StartNacos(t)
	_, m := pairWithMesh(t, nacosRegistry(n, "legacy"))
	deleted := deletions(t, m)

	// Another app stays: an empty listing of a registry that held
	// instances is taken for an error (rule 7), not for "all left".
	if ok, err := n.Client(t).RegisterInstance(vo.RegisterInstanceParam{Ip: "10.0.0.8", Port: 8080, Weight: 1,
		Enable: true, Healthy: true, Ephemeral: true, ServiceName: "billing"}); err != nil || !ok {
		t.Fatalf("register billing: ok=%v err=%v", ok, err)
	}
	app := n.Client(t)
	orders := vo.RegisterInstanceParam{Ip: "10.0.0.7", Port: 8080, Weight: 1, Enable: true, Healthy: true, Ephemeral: true,
		ClusterName: naming.DefaultCluster, ServiceName: "orders", GroupName: naming.DefaultGroup,
		Metadata: map[string]string{"version": "v1"}}
	if ok, err := app.RegisterInstance(orders); err != nil || !ok {
		t.Fatalf("register orders: ok=%v err=%v", ok, err)
	}
	id := naming.InstanceID("10.0.0.7", 8080, naming.DefaultCluster, naming.DefaultGroup, "orders")
	setEnabled := func(enabled bool) {
		t.Helper()
		ok, err := app.UpdateInstance(vo.UpdateInstanceParam{Ip: orders.Ip, Port: orders.Port, Weight: 1, Enable: enabled,
			Healthy: true, Ephemeral: true, ClusterName: orders.ClusterName, ServiceName: "orders", Metadata: orders.Metadata})
		if err != nil || !ok {
			t.Fatalf("set enabled=%v: ok=%v err=%v", enabled, ok, err)
		}
	}
	routed := func(want bool) func(*registry.Instance) error {
		return func(got *registry.Instance) error {
			if got.Healthy() != want || got.Disabled == want || got.Labels["version"] != "v1" {
				return fmt.Errorf("copy disabled=%v healthy=%v labels %v, want routed=%v", got.Disabled, got.Healthy(), got.Labels, want)
			}
			return nil
		}
	}
	awaitMeshCopy(t, m, "orders", id, routed(true))

	setEnabled(false)
	awaitMeshCopy(t, m, "orders", id, routed(false))
	setEnabled(true)
	awaitMeshCopy(t, m, "orders", id, routed(true))
	setEnabled(false)
	awaitMeshCopy(t, m, "orders", id, routed(false))
	if got := deleted(); len(got) != 0 {
		t.Fatalf("copies deleted while the app was only disabled: %v", got)
	}

	// Gone for real: the copy goes.
	if ok, err := app.DeregisterInstance(vo.DeregisterInstanceParam{Ip: orders.Ip, Port: orders.Port,
		ServiceName: "orders", GroupName: naming.DefaultGroup, Ephemeral: true}); err != nil || !ok {
		t.Fatalf("deregister orders: ok=%v err=%v", ok, err)
	}
	deletedAlone(t, deleted, "orders/"+id)
	holds(t, m, within, "billing/"+naming.InstanceID("10.0.0.8", 8080, naming.DefaultCluster, naming.DefaultGroup, "billing")+"<-legacy")
}
