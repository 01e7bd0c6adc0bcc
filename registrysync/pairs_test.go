package registrysync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"
	logging "github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// Pairs of a legacy registry and the mesh, both ways, through the engine,
// with real clients at both ends; the legacy registries are the stand-ins
// of standins_test.go.

func init() { logging.SetLevel(logging.CRITICAL, "fargo") }

// pairWithMesh syncs legacy <-> mesh both ways and returns the mesh, in
// which meshApps are registered before the syncer starts.
func pairWithMesh(t *testing.T, legacy registrysync.RegistryConfig, meshApps ...*registry.Instance) (*running, *meshtest.Plane) {
	m := meshtest.Start(t, meshtest.Options{Token: token, ExpiryInterval: 200 * time.Millisecond})
	register(t, m, meshApps...)
	cfg := config([]registrysync.RegistryConfig{legacy, meshRegistry("mesh", m)},
		registrysync.PairConfig{From: "legacy", To: "mesh", Direction: registrysync.Both})
	return run(t, cfg, registrysync.Options{}), m
}

// awaitMeshCopy waits until the mesh holds a copy of legacy's
// service/id (in any namespace and group) that ok accepts.
func awaitMeshCopy(t *testing.T, m *meshtest.Plane, service, id string, ok func(*registry.Instance) error) {
	t.Helper()
	poll.UntilNil(t, "the copy of "+service+"/"+id+" in the mesh", func() error {
		list, _, err := m.Client.Instances(meshtest.Ctx(t), registry.Filter{Service: service, ID: id})
		if err != nil {
			return err
		}
		if len(list) != 1 {
			return fmt.Errorf("%d instances", len(list))
		}
		got := list[0]
		if got.Metadata[registrysync.MetaOrigin] != "legacy" {
			return fmt.Errorf("origin %q", got.Metadata[registrysync.MetaOrigin])
		}
		return ok(got)
	}, poll.Within(within))
}

func TestPairEurekaAndMesh(t *testing.T) {
	legacy, conn := eurekaLegacy(t, "legacy")
	s, m := pairWithMesh(t, legacy, app("pay", "pay-1"))

	orders := registerEurekaOrders(t, conn)

	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.Labels["version"] != "v2" || got.SecurePort != 8443 || got.EffectiveStatus() != registry.StatusUp {
			return fmt.Errorf("copy %+v", got)
		}
		return nil
	})
	poll.UntilNil(t, "the mesh's pay-1 in Eureka", func() error {
		w, err := conn.GetInstance("PAY", "pay-1")
		if err != nil {
			return err
		}
		if origin, _ := w.Metadata.GetString(registrysync.MetaOrigin); origin != "mesh" {
			return fmt.Errorf("origin %q", origin)
		}
		return nil
	}, poll.Within(within))
	// A status change at the source reaches the copy.
	if err := conn.UpdateInstanceStatus(orders, fargo.OUTOFSERVICE); err != nil {
		t.Fatal(err)
	}
	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.EffectiveStatus() != registry.StatusOutOfService || got.Healthy() {
			return fmt.Errorf("status %s", got.EffectiveStatus())
		}
		return nil
	})
	noEchoes(t, s)
}

func TestPairConsulAndMesh(t *testing.T) {
	legacy, client := consulLegacy(t, "legacy")
	s, m := pairWithMesh(t, legacy, app("pay", "pay-1"))

	reg := &api.AgentServiceRegistration{ID: "orders-1", Name: "orders", Address: "10.0.0.1", Port: 8080,
		Meta: map[string]string{"version": "v2"}, Check: &api.AgentServiceCheck{CheckID: "orders-1-ttl", TTL: "1m"}}
	if err := client.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	if err := client.Agent().UpdateTTL("orders-1-ttl", "", api.HealthPassing); err != nil {
		t.Fatal(err)
	}

	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.Labels["version"] != "v2" || got.Health != registry.HealthPassing {
			return fmt.Errorf("copy %+v", got)
		}
		return nil
	})
	poll.UntilNil(t, "the mesh's pay-1 among Consul's passing instances", func() error {
		entries, _, err := client.Health().Service("pay", "", true, nil)
		if err != nil {
			return err
		}
		if len(entries) != 1 || entries[0].Service.Meta[registrysync.MetaOrigin] != "mesh" {
			return fmt.Errorf("entries %v", entries)
		}
		return nil
	}, poll.Within(within))
	// A failing check at the source reaches the copy's health.
	if err := client.Agent().UpdateTTL("orders-1-ttl", "", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.Health != registry.HealthCritical || got.Healthy() {
			return fmt.Errorf("health %s", got.Health)
		}
		return nil
	})
	noEchoes(t, s)
}

// registerEurekaOrders registers orders-1 through fargo as a Spring app
// does: version v2, both ports enabled.
func registerEurekaOrders(t *testing.T, conn *fargo.EurekaConnection, metadata ...string) *fargo.Instance {
	t.Helper()
	orders := &fargo.Instance{
		InstanceId: "orders-1", HostName: "10.0.0.1", IPAddr: "10.0.0.1", App: "ORDERS", VipAddress: "orders",
		Status: fargo.UP, Port: 8080, PortEnabled: true, SecurePort: 8443, SecurePortEnabled: true,
		DataCenterInfo: fargo.DataCenterInfo{Name: fargo.MyOwn},
		LeaseInfo:      fargo.LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 600},
	}
	orders.SetMetadataString("version", "v2")
	for i := 0; i+1 < len(metadata); i += 2 {
		orders.SetMetadataString(metadata[i], metadata[i+1])
	}
	if err := conn.ReregisterInstance(orders); err != nil {
		t.Fatal(err)
	}
	return orders
}

// meshPay is the mesh's pay-1 (UP, weight 5, secure port, version v3
// canary) and pay-2 (DOWN).
func meshPay() (pay, payDown *registry.Instance) {
	pay = app("pay", "pay-1")
	pay.Weight, pay.SecurePort, pay.SecureEnabled = 5, 8443, true
	pay.Metadata = map[string]string{"version": "v3", "canary": "true"}
	payDown = app("pay", "pay-2")
	payDown.Port, payDown.Status = 8081, registry.StatusDown
	return pay, payDown
}

// noEchoes fails when a flow reported a record error: a copy sent back
// where it came from is refused by the sinks as a write over an app.
func noEchoes(t *testing.T, s *running) {
	t.Helper()
	for _, f := range s.Status().Pairs {
		if len(f.Errors) > 0 {
			t.Errorf("%s -> %s: %+v", f.From, f.To, f.Errors)
		}
	}
}
