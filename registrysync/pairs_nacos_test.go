package registrysync_test

import (
	"fmt"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/legacytest"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// Nacos <-> mesh: an app registered through nacos-sdk-go is found by the
// mesh's consumers, and mesh apps by nacos-sdk-go consumers, with status,
// labels, weight and secure port; removal goes both ways; nothing is
// copied back.
func TestPairNacosAndMesh(t *testing.T) {
	n := legacytest.StartNacos(t)
	pay, payDown := meshPay()
	s, m := pairWithMesh(t, nacosRegistry(n, "legacy"), pay, payDown)

	// The app: Nacos has one port; secure=true says it is the TLS one.
	appClient := n.Client(t)
	orders := vo.RegisterInstanceParam{Ip: "10.0.0.1", Port: 8443, Weight: 3, Enable: true, Healthy: true, Ephemeral: true,
		Metadata:    map[string]string{"version": "v2", "canary": "true", "secure": "true"},
		ClusterName: naming.DefaultCluster, ServiceName: "orders", GroupName: naming.DefaultGroup}
	if ok, err := appClient.RegisterInstance(orders); err != nil || !ok {
		t.Fatalf("register orders: ok=%v err=%v", ok, err)
	}
	ordersID := naming.InstanceID("10.0.0.1", 8443, naming.DefaultCluster, naming.DefaultGroup, "orders")

	awaitMeshCopy(t, m, "orders", ordersID, func(got *registry.Instance) error {
		if got.Labels["version"] != "v2" || got.Labels["canary"] != "true" || got.Weight != 3 ||
			!got.SecureEnabled || got.SecurePort != 8443 || !got.Healthy() {
			return fmt.Errorf("copy %+v", got)
		}
		return nil
	})
	consumer := n.Client(t)
	poll.UntilNil(t, "the mesh's pay in Nacos: pay-1 selectable, pay-2 listed but not", func() error {
		all, err := consumer.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "pay"})
		if err != nil {
			return err
		}
		healthy, err := consumer.SelectInstances(vo.SelectInstancesParam{ServiceName: "pay", HealthyOnly: true})
		if err != nil {
			return err
		}
		if len(all) != 2 || len(healthy) != 1 {
			held, _, err := n.Store.List(meshtest.Ctx(t), registry.Filter{Service: "pay"})
			return fmt.Errorf("all %v, healthy %v; the server holds %d (%v); the syncer: %+v", all, healthy, len(held), err, s.Status().Pairs)
		}
		return nacosCopy(healthy[0], func(h model.Instance) bool {
			return h.Port == 8443 && h.Weight == 5 && h.Metadata["secure"] == "true" &&
				h.Metadata["version"] == "v3" && h.Metadata["canary"] == "true"
		})
	}, poll.Within(within))

	// Removal both ways.
	deregister(t, m, pay)
	if ok, err := appClient.DeregisterInstance(vo.DeregisterInstanceParam{Ip: "10.0.0.1", Port: 8443,
		ServiceName: "orders", GroupName: naming.DefaultGroup, Ephemeral: true}); err != nil || !ok {
		t.Fatalf("deregister orders: ok=%v err=%v", ok, err)
	}
	holds(t, m, within, "pay/pay-2")
	poll.UntilNil(t, "pay-1's copy gone from Nacos", func() error {
		all, err := consumer.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "pay"})
		if err != nil {
			return err
		}
		if len(all) != 1 || all[0].Port != 8081 {
			return fmt.Errorf("pay %v", all)
		}
		return nil
	}, poll.Within(within))
	noEchoes(t, s)
}

// nacosCopy checks that h is a copy from the mesh and that ok accepts it.
func nacosCopy(h model.Instance, ok func(model.Instance) bool) error {
	if h.Metadata[registrysync.MetaOrigin] != "mesh" {
		return fmt.Errorf("origin %q of %+v", h.Metadata[registrysync.MetaOrigin], h)
	}
	if !ok(h) {
		return fmt.Errorf("copy %+v", h)
	}
	return nil
}
