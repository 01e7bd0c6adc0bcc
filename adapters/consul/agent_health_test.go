package consul

import (
	"net/http"
	"testing"

	"github.com/hashicorp/consul/api"
)

// /v1/agent/health/service/id and /name answer with the aggregate as the
// status code (200, 429, 503), as load balancers read them.
func TestAgentHealthServiceByIDAndName(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	for _, id := range []string{"web-1", "web-2"} {
		reg := &api.AgentServiceRegistration{ID: id, Name: "web", Port: 80, Check: &api.AgentServiceCheck{CheckID: "ttl-" + id, TTL: "1m", Status: api.HealthPassing}}
		if err := agent.ServiceRegister(reg); err != nil {
			t.Fatal(err)
		}
	}
	status, info, err := agent.AgentHealthServiceByID("web-1")
	if err != nil || status != api.HealthPassing || info.Service.ID != "web-1" || len(info.Checks) != 1 || info.AggregatedStatus != api.HealthPassing {
		t.Fatalf("by id = %q, %+v, %v", status, info, err)
	}
	if err := agent.UpdateTTL("ttl-web-2", "slow", api.HealthWarning); err != nil {
		t.Fatal(err)
	}
	status, infos, err := agent.AgentHealthServiceByName("web")
	if err != nil || status != api.HealthWarning || len(infos) != 2 {
		t.Fatalf("by name with one warning = %q, %+v, %v", status, infos, err)
	}
	if err := agent.UpdateTTL("ttl-web-1", "down", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	if status, _, err := agent.AgentHealthServiceByName("web"); err != nil || status != api.HealthCritical {
		t.Fatalf("by name with one critical = %q, %v", status, err)
	}
	code, _, body := env.do(http.MethodGet, "/v1/agent/health/service/id/web-2?format=text", nil, nil)
	if code != http.StatusTooManyRequests || string(body) != "warning" {
		t.Fatalf("by id as text = %d %q", code, body)
	}
	code, _, body = env.do(http.MethodGet, "/v1/agent/health/service/id/web-1", nil, nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("by id critical = %d %s", code, body)
	}
	code, _, body = env.do(http.MethodGet, "/v1/agent/health/service/id/nope", nil, nil)
	if code != http.StatusNotFound || string(body) != "ServiceId nope not found" {
		t.Fatalf("unknown id = %d %q", code, body)
	}
	code, _, body = env.do(http.MethodGet, "/v1/agent/health/service/name/nope", nil, nil)
	if code != http.StatusNotFound || string(body) != "ServiceName nope Not Found" {
		t.Fatalf("unknown name = %d %q", code, body)
	}
}

// The agent's service endpoints leave out the catalog's indexes, as
// Consul's agent does; the catalog keeps them.
func TestAgentServiceHasNoIndexes(t *testing.T) {
	env := newEnv(t)
	if err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80}); err != nil {
		t.Fatal(err)
	}
	svc, _, err := env.client.Agent().Service("web-1", nil)
	if err != nil || svc.CreateIndex != 0 || svc.ModifyIndex != 0 {
		t.Fatalf("agent service = %+v, %v", svc, err)
	}
	all, err := env.client.Agent().Services()
	if err != nil || all["web-1"] == nil || all["web-1"].ModifyIndex != 0 {
		t.Fatalf("agent services = %+v, %v", all, err)
	}
	node, _, err := env.client.Catalog().Node("node-1", nil)
	if err != nil || node.Services["web-1"].ModifyIndex == 0 {
		t.Fatalf("catalog node = %+v, %v", node, err)
	}
}
