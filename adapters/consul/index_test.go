package consul

import (
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/internal/poll"
)

// Index fidelity, as Consul's: a check's status or output moves the
// health indexes of its service, not the catalog's service indexes, so
// Spring Cloud Consul's catalog watch does not refresh every app on each
// check change. A tag change moves the catalog's.
func TestCatalogIndexIgnoresCheckChanges(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	reg := &api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80, Tags: []string{"a"},
		Check: &api.AgentServiceCheck{CheckID: "ttl", TTL: "1m", Status: api.HealthPassing}}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	indexes := func() (services, node, health, checks uint64) {
		t.Helper()
		_, m1, err1 := env.client.Catalog().Services(nil)
		_, m2, err2 := env.client.Catalog().Node("node-1", nil)
		_, m3, err3 := env.client.Health().Service("web", "", false, nil)
		_, m4, err4 := env.client.Health().State("any", nil)
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return m1.LastIndex, m2.LastIndex, m3.LastIndex, m4.LastIndex
	}
	svc0, node0, health0, state0 := indexes()
	for _, st := range []string{api.HealthWarning, api.HealthCritical} {
		if err := agent.UpdateTTL("ttl", "now "+st, st); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, "the health view shows the critical check", func() bool {
		e, _, err := env.client.Health().Service("web", "", false, nil)
		return err == nil && len(e) == 1 && e[0].Checks.AggregatedStatus() == api.HealthCritical
	})
	svc1, node1, health1, state1 := indexes()
	if svc1 != svc0 || node1 != node0 {
		t.Errorf("catalog indexes moved on check changes: services %d -> %d, node %d -> %d", svc0, svc1, node0, node1)
	}
	if health1 <= health0 || state1 <= state0 {
		t.Errorf("health indexes did not move on check changes: service %d -> %d, state %d -> %d", health0, health1, state0, state1)
	}

	reg.Tags = []string{"a", "b"}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the catalog shows the new tag", func() bool {
		m, _, err := env.client.Catalog().Services(nil)
		return err == nil && len(m["web"]) == 2
	})
	if svc2, node2, _, _ := indexes(); svc2 <= svc1 || node2 <= node1 {
		t.Errorf("catalog indexes did not move on a tag change: services %d -> %d, node %d -> %d", svc1, svc2, node1, node2)
	}
}
