package registrysync_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registrysync"
)

// Eureka <-> Consul, no mesh: a legacy estate in two registries. An app
// registered through fargo is found by consul/api consumers and one
// registered through consul/api by fargo consumers, with status, labels
// and secure port (and weight where the target has one: Eureka has none);
// a DOWN instance is not selectable on the other side; removal goes both
// ways; nothing is copied back.
func TestPairEurekaAndConsul(t *testing.T) {
	eurekaReg, conn := eurekaLegacy(t, "eureka")
	consulReg, client := consulLegacy(t, "consul")

	orders := registerEurekaOrders(t, conn, "canary", "true")
	pay := &api.AgentServiceRegistration{ID: "pay-1", Name: "pay", Address: "10.0.0.2", Port: 8443,
		Meta:    map[string]string{"version": "v3", "canary": "true", "secure": "true"},
		Weights: &api.AgentWeights{Passing: 5, Warning: 1},
		Check:   &api.AgentServiceCheck{CheckID: "pay-1-ttl", TTL: "1m"}}
	if err := client.Agent().ServiceRegister(pay); err != nil {
		t.Fatal(err)
	}
	if err := client.Agent().UpdateTTL("pay-1-ttl", "", api.HealthPassing); err != nil {
		t.Fatal(err)
	}
	s := run(t, config([]registrysync.RegistryConfig{eurekaReg, consulReg},
		registrysync.PairConfig{From: "eureka", To: "consul", Direction: registrysync.Both}), registrysync.Options{})

	// Spring Cloud Consul's query: passing=false.
	consulOrders := func(ok func([]*api.ServiceEntry) error) {
		t.Helper()
		poll.UntilNil(t, "orders as Consul consumers see it", func() error {
			entries, _, err := client.Health().Service("orders", "", false, nil)
			if err != nil {
				return err
			}
			return ok(entries)
		}, poll.Within(within))
	}
	consulOrders(func(entries []*api.ServiceEntry) error {
		if len(entries) != 1 {
			return fmt.Errorf("%d entries", len(entries))
		}
		e := entries[0]
		if e.Service.ID != "orders-1" || e.Service.Port != 8443 || e.Service.Meta["secure"] != "true" ||
			e.Service.Meta["version"] != "v2" || e.Service.Meta["canary"] != "true" ||
			e.Service.Meta[registrysync.MetaOrigin] != "eureka" || e.Checks.AggregatedStatus() != api.HealthPassing {
			return fmt.Errorf("entry %+v %+v", e.Service, e.Checks)
		}
		return nil
	})
	eurekaPay := func(ok func(*fargo.Instance) error) {
		t.Helper()
		poll.UntilNil(t, "pay as Eureka consumers see it", func() error {
			a, err := conn.GetApp("PAY")
			if err != nil {
				return err
			}
			if len(a.Instances) != 1 {
				return fmt.Errorf("%d instances", len(a.Instances))
			}
			return ok(a.Instances[0])
		}, poll.Within(within))
	}
	eurekaPay(func(w *fargo.Instance) error {
		version, _ := w.Metadata.GetString("version")
		canary, _ := w.Metadata.GetString("canary")
		origin, _ := w.Metadata.GetString(registrysync.MetaOrigin)
		if w.InstanceId != "pay-1" || w.Status != fargo.UP || !w.SecurePortEnabled || w.SecurePort != 8443 ||
			version != "v3" || canary != "true" || origin != "consul" {
			return fmt.Errorf("instance %+v", w)
		}
		return nil
	})

	// DOWN both ways: Spring's Eureka client keeps only UP instances, and
	// Spring Cloud Consul (passing=false) must get no DOWN instance at all.
	if err := conn.UpdateInstanceStatus(orders, fargo.DOWN); err != nil {
		t.Fatal(err)
	}
	if err := client.Agent().UpdateTTL("pay-1-ttl", "", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	consulOrders(func(entries []*api.ServiceEntry) error {
		if len(entries) != 0 {
			return fmt.Errorf("%d entries, want the DOWN orders-1 absent", len(entries))
		}
		return nil
	})
	eurekaPay(func(w *fargo.Instance) error {
		if w.Status != fargo.DOWN {
			return fmt.Errorf("status %s", w.Status)
		}
		return nil
	})

	// No copy of a copy: each registry holds its app and the other's copy.
	if a, err := conn.GetApp("ORDERS"); err != nil || len(a.Instances) != 1 {
		t.Errorf("Eureka's ORDERS: %v %v", a, err)
	}
	if svcs, _, err := client.Catalog().Service("pay", "", nil); err != nil || len(svcs) != 1 {
		t.Errorf("Consul's pay: %v %v", svcs, err)
	}

	// Removal both ways, orders UP again first so that its copy is there.
	if err := conn.UpdateInstanceStatus(orders, fargo.UP); err != nil {
		t.Fatal(err)
	}
	consulOrders(func(entries []*api.ServiceEntry) error {
		if len(entries) != 1 {
			return fmt.Errorf("%d entries, want orders-1 back", len(entries))
		}
		return nil
	})
	if err := conn.DeregisterInstance(orders); err != nil {
		t.Fatal(err)
	}
	if err := client.Agent().ServiceDeregister("pay-1"); err != nil {
		t.Fatal(err)
	}
	poll.UntilNil(t, "both copies gone", func() error {
		svcs, _, err := client.Catalog().Service("orders", "", nil)
		if err != nil {
			return err
		}
		apps, err := conn.GetApps()
		if err != nil {
			return err
		}
		if pay := apps["PAY"]; pay != nil && len(pay.Instances) > 0 || len(svcs) > 0 {
			return fmt.Errorf("Consul's orders %v, Eureka's PAY %v", svcs, pay)
		}
		return nil
	}, poll.Within(within))
	noEchoes(t, s)
}
