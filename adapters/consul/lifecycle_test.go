package consul

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/internal/poll"
)

func TestDeregisterCriticalServiceAfter(t *testing.T) {
	env := newEnv(t, func(o *Options) {
		o.CheckReapInterval = 100 * time.Millisecond
		o.MinDeregisterAfter = 50 * time.Millisecond
	})
	agent := env.client.Agent()
	for _, reg := range []*api.AgentServiceRegistration{
		{ID: "dead-1", Name: "dead", Port: 1, Check: &api.AgentServiceCheck{TTL: "30s", DeregisterCriticalServiceAfter: "300ms"}},
		{ID: "alive-1", Name: "alive", Port: 1, Check: &api.AgentServiceCheck{TTL: "30s", DeregisterCriticalServiceAfter: "300ms", Status: api.HealthPassing}},
	} {
		if err := agent.ServiceRegister(reg); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, "critical service reaped", func() bool { return len(env.instances("dead")) == 0 }, poll.Within(5*time.Second))
	if len(env.instances("alive")) != 1 {
		t.Fatal("passing service was reaped")
	}
	poll.Until(t, "agent forgets the reaped service", func() bool {
		svcs, err := agent.Services()
		return err == nil && svcs["dead-1"] == nil && svcs["alive-1"] != nil
	}, poll.Within(5*time.Second))
}

func TestMinDeregisterAfterIsHonoured(t *testing.T) {
	env := newEnv(t, func(o *Options) {
		o.CheckReapInterval = 50 * time.Millisecond
		o.MinDeregisterAfter = time.Hour
	})
	if err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "slow-1", Name: "slow", Port: 1,
		Check: &api.AgentServiceCheck{TTL: "30s", DeregisterCriticalServiceAfter: "10ms"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if len(env.instances("slow")) != 1 {
			t.Fatal("reaped before the minimum DeregisterCriticalServiceAfter")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	env := newEnvAt(t, dir)
	agent := env.client.Agent()
	if err := agent.ServiceRegister(&api.AgentServiceRegistration{ID: "keep-1", Name: "keep", Port: 80, Tags: []string{"t"},
		Weights: &api.AgentWeights{Passing: 3, Warning: 2},
		Check:   &api.AgentServiceCheck{TTL: "30s", Notes: "heartbeat"}}); err != nil {
		t.Fatal(err)
	}
	if err := agent.UpdateTTL("service:keep-1", "fine", api.HealthPassing); err != nil {
		t.Fatal(err)
	}
	_, meta, err := env.client.Health().Service("keep", "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	env.server.Stop()

	env2 := newEnvAt(t, dir)
	svcs, err := env2.client.Agent().Services()
	if err != nil || svcs["keep-1"] == nil || svcs["keep-1"].Weights.Passing != 3 || svcs["keep-1"].Weights.Warning != 2 {
		t.Fatalf("agent services after restart = %+v, %v", svcs, err)
	}
	checks, err := env2.client.Agent().Checks()
	c := checks["service:keep-1"]
	if err != nil || c == nil || c.Status != api.HealthPassing || c.Output != "fine" || c.Notes != "heartbeat" || c.Type != "ttl" {
		t.Fatalf("check after restart = %+v, %v", c, err)
	}
	_, meta2, err := env2.client.Health().Service("keep", "", false, nil)
	if err != nil || meta2.LastIndex < meta.LastIndex {
		t.Fatalf("index went backwards across a restart: %d -> %d (%v)", meta.LastIndex, meta2.LastIndex, err)
	}
	// The TTL check keeps running after the restart.
	if err := env2.client.Agent().PassTTL("service:keep-1", ""); err != nil {
		t.Fatalf("pass after restart: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	env := newEnv(t, func(o *Options) { o.Metrics = reg })
	if err := env.client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "met-1", Name: "met", Port: 1,
		Check: &api.AgentServiceCheck{TTL: "30s"}}); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "/" + l.GetValue()
			}
			got[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	if got["meshbridge_consul_local_services"] != 1 || got["meshbridge_consul_checks/critical"] != 1 || got["meshbridge_consul_checks/passing"] != 0 {
		t.Fatalf("metrics = %v", got)
	}
}
