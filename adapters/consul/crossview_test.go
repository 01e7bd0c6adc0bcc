package consul

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

func TestEurekaInstanceInConsulViews(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	eureka := &registry.Instance{
		ID: "host-a:orders:8080", Service: "ORDERS", Host: "10.1.2.3", Port: 8080,
		Status: registry.StatusUp, Zone: "zone-b", Ephemeral: true, Origin: registry.OriginEureka,
		Metadata:   map[string]string{"version": "v2", "management.port": "8081"},
		Attributes: map[string]string{"eureka.homePageUrl": "http://10.1.2.3:8080/"},
		Lease:      registry.Lease{RenewalInterval: 30 * time.Second, Duration: 90 * time.Second},
	}
	stored, err := env.store.Register(ctx, eureka)
	if err != nil {
		t.Fatal(err)
	}
	secure := &registry.Instance{
		ID: "host-b:orders:8443", Service: "ORDERS", Host: "10.1.2.4", SecurePort: 8443, SecureEnabled: true,
		Status: registry.StatusUp, Origin: registry.OriginEureka,
	}
	if _, err := env.store.Register(ctx, secure); err != nil {
		t.Fatal(err)
	}

	svcs, _, err := env.client.Catalog().Services(nil)
	if err != nil || svcs["orders"] == nil {
		t.Fatalf("catalog services = %v, %v (Eureka's ORDERS should show as orders)", svcs, err)
	}
	entries, meta, err := env.client.Health().Service("orders", "", true, nil)
	if err != nil || len(entries) != 2 {
		t.Fatalf("passing entries = %+v, %v", entries, err)
	}
	byID := map[string]*api.ServiceEntry{}
	for _, e := range entries {
		byID[e.Service.ID] = e
	}
	e := byID["host-a:orders:8080"]
	if e == nil || e.Service.Address != "10.1.2.3" || e.Service.Port != 8080 || e.Service.Service != "orders" ||
		e.Service.Meta["version"] != "v2" || e.Service.Meta["management.port"] != "8081" ||
		e.Service.Meta["zone"] != "zone-b" || e.Service.Meta["secure"] != "false" || e.Service.Meta["eureka.homePageUrl"] != "" {
		t.Fatalf("eureka instance as a Consul service = %+v", e.Service)
	}
	if len(e.Checks) != 2 || e.Checks[0].CheckID != "serfHealth" || e.Checks[1].CheckID != "service:host-a:orders:8080" ||
		e.Checks[1].Status != api.HealthPassing || e.Checks[1].Type != "ttl" {
		t.Fatalf("checks = %+v", e.Checks)
	}
	if s := byID["host-b:orders:8443"]; s == nil || s.Service.Port != 8443 || s.Service.Meta["secure"] != "true" {
		t.Fatalf("secure-only instance = %+v", s)
	}

	// An Eureka status override takes it out of passing results and wakes blocked readers.
	done := make(chan []*api.ServiceEntry, 1)
	go func() {
		es, _, err := env.client.Health().Service("orders", "", true, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 20 * time.Second})
		if err != nil {
			es = nil
		}
		done <- es
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := env.store.SetStatusOverride(ctx, stored.Key(), registry.StatusOutOfService); err != nil {
		t.Fatal(err)
	}
	select {
	case es := <-done:
		if len(es) != 1 || es[0].Service.ID != "host-b:orders:8443" {
			t.Fatalf("after override: %+v", es)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("override did not wake the blocking query")
	}
	all, _, err := env.client.Health().Service("orders", "", false, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("all entries = %v, %v", all, err)
	}
	for _, e := range all {
		if e.Service.ID == eureka.ID && e.Checks.AggregatedStatus() != api.HealthCritical {
			t.Fatalf("overridden instance aggregated status %s", e.Checks.AggregatedStatus())
		}
	}
}

func TestConsulInstanceOverriddenElsewhere(t *testing.T) {
	env := newEnv(t)
	if err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "pay-1", Name: "pay", Port: 80}); err != nil {
		t.Fatal(err)
	}
	insts := env.instances("pay")
	if len(insts) != 1 || insts[0].Health != registry.HealthPassing || !insts[0].Healthy() {
		t.Fatalf("consul instance without checks in the registry: %+v", insts)
	}
	if _, err := env.store.SetStatusOverride(context.Background(), insts[0].Key(), registry.StatusOutOfService); err != nil {
		t.Fatal(err)
	}
	entries, _, err := env.client.Health().Service("pay", "", false, nil)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries: %v, %v", entries, err)
	}
	c := entries[0].Checks[len(entries[0].Checks)-1]
	if c.CheckID != "_service_maintenance:pay-1" || c.Status != api.HealthCritical {
		t.Fatalf("override through another protocol should show as maintenance: %+v", entries[0].Checks)
	}
	// Deregistered through another protocol: the agent forgets it too.
	if _, err := env.store.Deregister(context.Background(), insts[0].Key()); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "agent forgets the service", func() bool {
		svcs, err := env.client.Agent().Services()
		return err == nil && svcs["pay-1"] == nil
	}, poll.Within(5*time.Second))
}
