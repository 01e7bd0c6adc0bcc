package consul

import (
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// Agentless registration through the catalog, as external-service tools
// and catalog syncers do it: a service and its checks on another node.
func TestCatalogRegisterAndDeregister(t *testing.T) {
	env := newEnv(t)
	catalog := env.client.Catalog()
	reg := &api.CatalogRegistration{
		Node: "foobar", Address: "192.168.10.10", NodeMeta: map[string]string{"somekey": "somevalue"},
		Service: &api.AgentService{ID: "redis1", Service: "redis", Tags: []string{"primary"}, Port: 8000},
		Check:   &api.AgentCheck{CheckID: "service:redis1-a", Name: "a", Status: api.HealthPassing, ServiceID: "redis1"},
		Checks:  api.HealthChecks{{CheckID: "service:redis1-b", Name: "b", Status: api.HealthWarning, ServiceID: "redis1"}},
	}
	if _, err := catalog.Register(reg, nil); err != nil {
		t.Fatalf("register: %v", err)
	}
	node, _, err := catalog.Node("foobar", nil)
	if err != nil || node == nil || node.Services["redis1"] == nil || node.Node.Address != "192.168.10.10" || node.Node.Meta["somekey"] != "somevalue" {
		t.Fatalf("catalog node = %+v, %v", node, err)
	}
	checks, _, err := env.client.Health().Node("foobar", nil)
	if err != nil || len(checks) != 2 || checks[0].CheckID != "service:redis1-a" || checks[1].Status != api.HealthWarning {
		t.Fatalf("health node = %+v, %v", checks, err)
	}
	rows, _, err := catalog.Service("redis", "", nil)
	if err != nil || len(rows) != 1 || rows[0].Node != "foobar" || rows[0].Address != "192.168.10.10" || rows[0].ServiceAddress != "" {
		t.Fatalf("catalog service = %+v, %v", rows, err)
	}
	entries, _, err := env.client.Health().Service("redis", "", false, nil)
	if err != nil || len(entries) != 1 || entries[0].Node.Node != "foobar" || len(entries[0].Checks) != 2 || entries[0].Checks.AggregatedStatus() != api.HealthWarning {
		t.Fatalf("health service = %+v, %v", entries, err)
	}
	nodes, _, err := catalog.Nodes(nil)
	if err != nil || len(nodes) != 2 || nodes[0].Node != "foobar" || nodes[1].Node != "node-1" {
		t.Fatalf("catalog nodes = %+v, %v", nodes, err)
	}
	list, _, err := catalog.NodeServiceList("foobar", nil)
	if err != nil || list.Node.Node != "foobar" || len(list.Services) != 1 || list.Services[0].ID != "redis1" {
		t.Fatalf("catalog node-services = %+v, %v", list, err)
	}
	if local, err := env.client.Agent().Services(); err != nil || local["redis1"] != nil {
		t.Fatalf("a catalog service is not the agent's: %v, %v", local, err)
	}
	// The registry holds it, for every other protocol, at the node's address.
	if insts := env.instances("redis"); len(insts) != 1 || insts[0].Host != "192.168.10.10" || insts[0].Port != 8000 {
		t.Fatalf("store = %+v", insts)
	}

	// A second service with SkipNodeUpdate keeps the node as it was; a
	// check-only registration moves a status.
	second := &api.CatalogRegistration{Node: "foobar", SkipNodeUpdate: true, NodeMeta: map[string]string{"other": "x"},
		Service: &api.AgentService{ID: "web1", Service: "web", Port: 80}}
	if _, err := catalog.Register(second, nil); err != nil {
		t.Fatalf("register with SkipNodeUpdate: %v", err)
	}
	statusOnly := &api.CatalogRegistration{Node: "foobar", Address: "192.168.10.10", NodeMeta: reg.NodeMeta,
		Check: &api.AgentCheck{CheckID: "service:redis1-b", Status: api.HealthCritical, ServiceID: "redis1"}}
	if _, err := catalog.Register(statusOnly, nil); err != nil {
		t.Fatalf("register a check: %v", err)
	}
	node, _, err = catalog.Node("foobar", nil)
	if err != nil || len(node.Services) != 2 || node.Node.Meta["somekey"] != "somevalue" || node.Node.Meta["other"] != "" {
		t.Fatalf("node after SkipNodeUpdate = %+v, %v", node, err)
	}
	if st, _, err := env.client.Health().Checks("redis", nil); err != nil || st.AggregatedStatus() != api.HealthCritical {
		t.Fatalf("health checks after a check update = %+v, %v", st, err)
	}

	// Deregister a check, a service, then the node with what is left.
	if _, err := catalog.Deregister(&api.CatalogDeregistration{Node: "foobar", CheckID: "service:redis1-b"}, nil); err != nil {
		t.Fatal(err)
	}
	if st, _, err := env.client.Health().Checks("redis", nil); err != nil || len(st) != 1 || st[0].CheckID != "service:redis1-a" {
		t.Fatalf("checks after deregistering one = %+v, %v", st, err)
	}
	if _, err := catalog.Deregister(&api.CatalogDeregistration{Node: "foobar", ServiceID: "redis1"}, nil); err != nil {
		t.Fatal(err)
	}
	if rows, _, err := catalog.Service("redis", "", nil); err != nil || len(rows) != 0 {
		t.Fatalf("redis after deregistering it = %+v, %v", rows, err)
	}
	if _, err := catalog.Deregister(&api.CatalogDeregistration{Node: "foobar"}, nil); err != nil {
		t.Fatal(err)
	}
	if node, _, err := catalog.Node("foobar", nil); err != nil || node != nil {
		t.Fatalf("node after deregistering it = %+v, %v", node, err)
	}
	if list, _, err := catalog.NodeServiceList("foobar", nil); err != nil || list.Node != nil || len(list.Services) != 0 {
		t.Fatalf("node-services after deregistering the node = %+v, %v", list, err)
	}
}

// What the catalog would not keep is refused with 400 naming it, and
// nothing is written.
func TestCatalogRegisterRefusals(t *testing.T) {
	env := newEnv(t)
	svc := &api.AgentService{ID: "redis1", Service: "redis", Port: 8000}
	for want, reg := range map[string]*api.CatalogRegistration{
		"without services":   {Node: "foo", Address: "1.1.1.1"},
		"node-level check":   {Node: "foo", Address: "1.1.1.1", Service: svc, Check: &api.AgentCheck{CheckID: "n", Status: api.HealthPassing}},
		"this agent's":       {Node: "node-1", Address: "127.0.0.1", Service: svc},
		"Must provide node":  {Address: "1.1.1.1", Service: svc},
		"Proxy":              {Node: "foo", Address: "1.1.1.1", Service: &api.AgentService{Service: "p", Kind: api.ServiceKindConnectProxy, Proxy: &api.AgentServiceConnectProxyConfig{DestinationServiceName: "redis"}}},
		"Unknown service ID": {Node: "foo", Address: "1.1.1.1", Service: svc, Check: &api.AgentCheck{CheckID: "c", ServiceID: "nope"}},
	} {
		_, err := env.client.Catalog().Register(reg, nil)
		if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), want) {
			t.Errorf("register %q: %v; want 400 with %q", want, err, want)
		}
	}
	if insts := env.instances("redis"); len(insts) != 0 {
		t.Fatalf("refused registrations were stored: %+v", insts)
	}
	// A service on another node keeps its ID: the agent does not take it over.
	if _, err := env.client.Catalog().Register(&api.CatalogRegistration{Node: "foo", Address: "1.1.1.1", Service: svc}, nil); err != nil {
		t.Fatal(err)
	}
	err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "redis1", Name: "redis", Port: 1})
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), `node "foo"`) {
		t.Fatalf("agent registration of a catalog service's ID = %v", err)
	}
	if rows, _, err := env.client.Catalog().Service("redis", "", nil); err != nil || len(rows) != 1 || rows[0].Node != "foo" || rows[0].ServicePort != 8000 {
		t.Fatalf("redis after the refused agent registration = %+v, %v", rows, err)
	}
}
