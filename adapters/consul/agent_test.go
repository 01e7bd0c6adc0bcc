package consul

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/internal/poll"
)

func TestServiceRegisterWithTTLCheck(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	reg := &api.AgentServiceRegistration{
		ID: "web-1", Name: "web", Tags: []string{"v1", "primary"}, Port: 8080, Address: "10.0.0.5",
		Meta:  map[string]string{"version": "v1"},
		Check: &api.AgentServiceCheck{TTL: "30s"},
	}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatalf("register: %v", err)
	}
	svcs, err := agent.Services()
	if err != nil {
		t.Fatalf("services: %v", err)
	}
	got := svcs["web-1"]
	if got == nil || got.Service != "web" || got.Port != 8080 || got.Address != "10.0.0.5" || got.Meta["version"] != "v1" || len(got.Tags) != 2 {
		t.Fatalf("agent service = %+v", got)
	}
	checks, err := agent.Checks()
	if err != nil {
		t.Fatalf("checks: %v", err)
	}
	c := checks["service:web-1"]
	if c == nil || c.Status != api.HealthCritical || c.Type != "ttl" || c.ServiceID != "web-1" {
		t.Fatalf("new TTL check = %+v, want critical ttl check service:web-1", c)
	}
	if err := agent.UpdateTTL("service:web-1", "all good", api.HealthPassing); err != nil {
		t.Fatalf("update TTL: %v", err)
	}
	entries, _, err := env.client.Health().Service("web", "", true, nil)
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	if len(entries) != 1 || entries[0].Service.ID != "web-1" {
		t.Fatalf("passing entries = %+v", entries)
	}
	var found bool
	for _, hc := range entries[0].Checks {
		if hc.CheckID == "service:web-1" {
			found = true
			if hc.Status != api.HealthPassing || hc.Output != "all good" {
				t.Errorf("check after UpdateTTL = %s %q", hc.Status, hc.Output)
			}
		}
	}
	if !found {
		t.Errorf("service check missing from %+v", entries[0].Checks)
	}
	inst := env.instances("web")
	if len(inst) != 1 || inst[0].Health != "passing" || inst[0].Origin != "consul" {
		t.Fatalf("stored = %+v", inst)
	}
	if err := agent.FailTTL("service:web-1", "broken"); err != nil {
		t.Fatalf("fail TTL: %v", err)
	}
	entries, _, err = env.client.Health().Service("web", "", true, nil)
	if err != nil || len(entries) != 0 {
		t.Fatalf("passing after fail = %v, %v", entries, err)
	}
	if err := agent.ServiceDeregister("web-1"); err != nil {
		t.Fatalf("deregister: %v", err)
	}
	if got := env.instances("web"); len(got) != 0 {
		t.Fatalf("after deregister: %+v", got)
	}
	if err := agent.ServiceDeregister("web-1"); err == nil {
		t.Fatalf("second deregister: want 404 error")
	}
}

func TestTTLCheckExpiresToCritical(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	reg := &api.AgentServiceRegistration{ID: "ttl-1", Name: "ttl", Port: 1, Check: &api.AgentServiceCheck{TTL: "1s", Status: api.HealthPassing}}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := agent.PassTTL("service:ttl-1", "beat"); err != nil {
		t.Fatalf("pass: %v", err)
	}
	poll.Until(t, "TTL expiry", func() bool {
		checks, err := agent.Checks()
		return err == nil && checks["service:ttl-1"] != nil && checks["service:ttl-1"].Status == api.HealthCritical &&
			checks["service:ttl-1"].Output == "TTL expired (last output before timeout follows): beat"
	}, poll.Within(5*time.Second))
}

func TestServiceRegisterWithHTTPCheck(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "Consul Health Check" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"UP"}`))
	}))
	defer app.Close()
	env := newEnv(t)
	reg := &api.AgentServiceRegistration{ID: "app-1", Name: "app", Port: 8080,
		Check: &api.AgentServiceCheck{HTTP: app.URL + "/actuator/health", Interval: "1s", Timeout: "2s"}}
	if err := env.client.Agent().ServiceRegister(reg); err != nil {
		t.Fatalf("register: %v", err)
	}
	status := func() string {
		checks, _, err := env.client.Health().Checks("app", nil)
		if err != nil || len(checks) != 1 {
			return ""
		}
		return checks[0].Status
	}
	poll.Until(t, "HTTP check passing", func() bool { return status() == api.HealthPassing }, poll.Within(5*time.Second))
	checks, _, _ := env.client.Health().Checks("app", nil)
	if want := "HTTP GET " + app.URL + "/actuator/health: 200 OK Output: {\"status\":\"UP\"}"; checks[0].Output != want {
		t.Errorf("output = %q, want %q", checks[0].Output, want)
	}
	if checks[0].Definition.IntervalDuration != time.Second || checks[0].Definition.HTTP != app.URL+"/actuator/health" {
		t.Errorf("definition = %+v", checks[0].Definition)
	}
	healthy.Store(false)
	poll.Until(t, "HTTP check critical", func() bool { return status() == api.HealthCritical }, poll.Within(5*time.Second))
	if got := env.instances("app"); len(got) != 1 || got[0].Health != "critical" {
		t.Fatalf("stored health = %+v", got)
	}
}

func TestRegistrationChecksMergeAndReplace(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	reg := &api.AgentServiceRegistration{ID: "m-1", Name: "m", Port: 1, Checks: api.AgentServiceChecks{
		{TTL: "30s"}, {TTL: "30s", CheckID: "extra", Name: "Extra"},
	}}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	checks, err := agent.Checks()
	if err != nil || checks["service:m-1:1"] == nil || checks["extra"] == nil || checks["extra"].Name != "Extra" {
		t.Fatalf("checks = %v, %v (want service:m-1:1 and extra)", checks, err)
	}
	if err := agent.PassTTL("extra", "ok"); err != nil {
		t.Fatal(err)
	}
	// Registering again without "extra" keeps it (Consul merges checks) and keeps its state.
	reg.Checks = api.AgentServiceChecks{{TTL: "30s", CheckID: "other"}}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	checks, _ = agent.Checks()
	if checks["extra"] == nil || checks["extra"].Status != api.HealthPassing || checks["other"] == nil {
		t.Fatalf("after re-register: %v", checks)
	}
	// replace-existing-checks drops the ones not named.
	if err := agent.ServiceRegisterOpts(reg, api.ServiceRegisterOpts{ReplaceExistingChecks: true}); err != nil {
		t.Fatal(err)
	}
	checks, _ = agent.Checks()
	if len(checks) != 1 || checks["other"] == nil {
		t.Fatalf("after replace-existing-checks: %v", checks)
	}
	// Same ID under another name replaces the service, as Consul IDs are per agent.
	if err := agent.ServiceRegister(&api.AgentServiceRegistration{ID: "m-1", Name: "renamed", Port: 2}); err != nil {
		t.Fatal(err)
	}
	if len(env.instances("m")) != 0 || len(env.instances("renamed")) != 1 {
		t.Fatalf("rename: m=%v renamed=%v", env.instances("m"), env.instances("renamed"))
	}
	poll.Until(t, "agent sees the renamed service", func() bool {
		svcs, err := agent.Services()
		return err == nil && len(svcs) == 1 && svcs["m-1"] != nil && svcs["m-1"].Service == "renamed"
	}, poll.Within(5*time.Second))
}

func TestCheckRegisterAndDeregister(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	if err := agent.ServiceRegister(&api.AgentServiceRegistration{ID: "c-1", Name: "c", Port: 1}); err != nil {
		t.Fatal(err)
	}
	if err := agent.CheckRegister(&api.AgentCheckRegistration{ID: "c-1-ttl", Name: "c ttl", ServiceID: "c-1",
		AgentServiceCheck: api.AgentServiceCheck{TTL: "30s"}}); err != nil {
		t.Fatalf("check register: %v", err)
	}
	checks, err := agent.Checks()
	if err != nil || checks["c-1-ttl"] == nil || checks["c-1-ttl"].Status != api.HealthCritical || checks["c-1-ttl"].ServiceID != "c-1" {
		t.Fatalf("checks = %v, %v", checks, err)
	}
	if insts := env.instances("c"); insts[0].Health != "critical" {
		t.Fatalf("health with a critical check = %s", insts[0].Health)
	}
	if err := agent.PassTTL("c-1-ttl", ""); err != nil {
		t.Fatal(err)
	}
	if err := agent.CheckDeregister("c-1-ttl"); err != nil {
		t.Fatalf("check deregister: %v", err)
	}
	checks, _ = agent.Checks()
	if len(checks) != 0 {
		t.Fatalf("after deregister: %v", checks)
	}
	if err := agent.CheckDeregister("c-1-ttl"); err == nil {
		t.Fatal("deregistering an unknown check succeeded")
	}
	err = agent.CheckRegister(&api.AgentCheckRegistration{Name: "orphan", ServiceID: "nope", AgentServiceCheck: api.AgentServiceCheck{TTL: "1s"}})
	if se, ok := err.(api.StatusError); !ok || se.Code != 404 {
		t.Fatalf("check for an unknown service: %v", err)
	}
}
