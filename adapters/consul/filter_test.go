package consul

import (
	"testing"

	"github.com/hashicorp/consul/api"
)

func TestFilterExpressions(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	for _, reg := range []*api.AgentServiceRegistration{
		{ID: "web-1", Name: "web", Tags: []string{"primary"}, Port: 80, Meta: map[string]string{"version": "v1"}},
		{ID: "web-2", Name: "web", Tags: []string{"canary"}, Port: 81, Meta: map[string]string{"version": "v2"}},
		{ID: "db-1", Name: "db", Port: 5432, Meta: map[string]string{"version": "v1"}},
	} {
		if err := agent.ServiceRegister(reg); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, err := env.client.Health().Service("web", "", false, &api.QueryOptions{Filter: `Service.Meta.version == "v2"`})
	if err != nil || len(entries) != 1 || entries[0].Service.ID != "web-2" {
		t.Fatalf("health filter = %v, %v", entries, err)
	}
	nodes, _, err := env.client.Catalog().Service("web", "", &api.QueryOptions{Filter: `"primary" in ServiceTags`})
	if err != nil || len(nodes) != 1 || nodes[0].ServiceID != "web-1" {
		t.Fatalf("catalog filter = %v, %v", nodes, err)
	}
	svcs, _, err := env.client.Catalog().Services(&api.QueryOptions{Filter: `ServiceMeta.version == "v1"`})
	if err != nil || len(svcs) != 2 || len(svcs["web"]) != 1 || svcs["web"][0] != "primary" {
		t.Fatalf("catalog services filter = %v, %v", svcs, err)
	}
	agentSvcs, err := agent.ServicesWithFilter(`Service == "db"`)
	if err != nil || len(agentSvcs) != 1 || agentSvcs["db-1"] == nil {
		t.Fatalf("agent services filter = %v, %v", agentSvcs, err)
	}
	if _, _, err := env.client.Health().Service("web", "", false, &api.QueryOptions{Filter: `Service.Meta.version ==`}); err == nil {
		t.Fatal("a malformed filter was accepted")
	}
}
