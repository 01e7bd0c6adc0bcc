package consul

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// Every field of a registration is kept and read back, or refused with a
// 400 that names it; nothing is accepted and dropped.
func TestRegisterFieldsKeptOrRefused(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	reg := &api.AgentServiceRegistration{
		ID: "web-1", Name: "web", Port: 80, SocketPath: "/tmp/web.sock",
		Locality: &api.Locality{Region: "eu-west-1", Zone: "eu-west-1a"},
	}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	svc, _, err := agent.Service("web-1", nil)
	if err != nil || svc.SocketPath != "/tmp/web.sock" || svc.Locality == nil || *svc.Locality != *reg.Locality {
		t.Fatalf("agent service = %+v, %v", svc, err)
	}
	rows, _, err := env.client.Catalog().Service("web", "", nil)
	if err != nil || len(rows) != 1 || rows[0].ServiceLocality == nil || *rows[0].ServiceLocality != *reg.Locality {
		t.Fatalf("catalog service = %+v, %v", rows, err)
	}

	for field, body := range map[string]string{
		"Ports":     `{"Name":"db","Ports":[{"Name":"http","Port":80,"Default":true}]}`,
		"Proxy":     `{"Name":"db","Proxy":{"DestinationServiceName":"web"}}`,
		"Connect":   `{"Name":"db","Connect":{"Native":true}}`,
		"Namespace": `{"Name":"db","Namespace":"team-a"}`,
	} {
		code, _, msg := env.do(http.MethodPut, "/v1/agent/service/register", strings.NewReader(body), nil)
		if code != http.StatusBadRequest || !strings.Contains(string(msg), field) {
			t.Errorf("register with %s = %d %q; want 400 naming it", field, code, msg)
		}
	}
	if insts := env.instances("db"); len(insts) != 0 {
		t.Fatalf("a refused registration was stored: %+v", insts)
	}
	// Unset and empty forms of those fields are not values.
	code, _, msg := env.do(http.MethodPut, "/v1/agent/service/register", strings.NewReader(`{"Name":"db","Proxy":null,"Connect":{},"Namespace":"default"}`), nil)
	if code != http.StatusOK {
		t.Fatalf("register with empty Proxy/Connect = %d %q", code, msg)
	}
}
