package eureka

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

// TestCrossView registers instances through the store as the control API,
// Consul and Nacos front-ends do, and checks what Eureka clients see.
func TestCrossView(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	register := func(in *registry.Instance) *registry.Instance {
		t.Helper()
		out, err := env.store.Register(ctx, in)
		if err != nil {
			t.Fatalf("register %s: %v", in.ID, err)
		}
		return out
	}
	register(&registry.Instance{
		ID: "ctl-1", Service: "payments", Host: "10.0.0.9", Port: 9000, Zone: "eu-1",
		Metadata: map[string]string{"version": "v2"}, Origin: registry.OriginControl,
	})
	register(&registry.Instance{
		ID: "consul-1", Service: "payments", Host: "10.0.0.10", Port: 9000, SecurePort: 9443, SecureEnabled: true,
		Health: registry.HealthCritical, Origin: registry.OriginConsul, Ephemeral: true,
		Lease: registry.Lease{RenewalInterval: 10 * time.Second, Duration: 30 * time.Second},
	})
	register(&registry.Instance{
		ID: "nacos-1", Service: "payments", Group: "g2", Host: "10.0.0.11", Port: 9000, Disabled: true,
		Origin: registry.OriginNacos,
	})
	register(&registry.Instance{
		ID: "elsewhere", Service: "payments", Namespace: "dev", Host: "10.0.0.12", Port: 9000, Origin: registry.OriginNacos,
	})
	poll.Until(t, "view has the three instances", func() bool { return env.srv.view.current().instances == 3 }, poll.Within(5*time.Second))

	c := springClient{env: env, base: "/eureka"}
	apps := c.applications(t, "/apps/")
	if apps.Hashcode != "DOWN_1_OUT_OF_SERVICE_1_UP_1_" {
		t.Errorf("hash %q: want the three instances as DOWN, OUT_OF_SERVICE and UP", apps.Hashcode)
	}
	if len(apps.Apps) != 1 || apps.Apps[0].Name != "PAYMENTS" || len(apps.Apps[0].Instances) != 3 {
		t.Fatalf("apps: %+v", apps)
	}
	byID := map[string]springInstance{}
	for _, in := range apps.Apps[0].Instances {
		byID[in.InstanceID] = in
	}
	ctl := byID["ctl-1"]
	if ctl.App != "PAYMENTS" || ctl.VIPAddress != "payments" || ctl.SecureVIPAddress != "payments" ||
		ctl.Status != "UP" || ctl.HostName != "10.0.0.9" || ctl.IPAddr != "10.0.0.9" ||
		ctl.Port != 9000 || !ctl.PortEnabled || ctl.SecurePort != 443 || ctl.SecurePortEnabled ||
		ctl.DataCenter != "MyOwn" || ctl.Metadata["version"] != "v2" || ctl.Metadata["zone"] != "eu-1" ||
		ctl.Lease["renewalIntervalInSecs"] != 30 || ctl.Lease["durationInSecs"] != 90 {
		t.Errorf("control-origin instance as Eureka shows it: %+v", ctl)
	}
	if got := byID["consul-1"]; got.Status != "DOWN" || got.SecurePort != 9443 || !got.SecurePortEnabled ||
		got.Lease["durationInSecs"] != 30 || got.Lease["renewalIntervalInSecs"] != 10 {
		t.Errorf("critical Consul instance: %+v", got)
	}
	if got := byID["nacos-1"]; got.Status != "OUT_OF_SERVICE" {
		t.Errorf("disabled Nacos instance in another group: %+v", got)
	}

	// fargo in XML mode finds the control instance by VIP and only it is UP.
	conn := fargo.NewConn(env.url + "/eureka/v2")
	up, err := conn.GetInstancesByVIPAddress("payments", false, fargo.ThatAreUp)
	if err != nil || len(up) != 1 || up[0].Id() != "ctl-1" || up[0].HomePageUrl != "http://10.0.0.9:9000/" {
		t.Fatalf("fargo VIP lookup: %v %+v", err, up)
	}

	// A change through the store reaches Eureka clients as a MODIFIED delta.
	if _, err := env.store.Update(ctx, registry.NewInstanceKey("", "", "payments", "consul-1"), func(i *registry.Instance) error {
		i.Health = registry.HealthPassing
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "delta shows consul-1 UP", func() bool {
		for _, a := range c.applications(t, "/apps/delta").Apps {
			for _, in := range a.Instances {
				if in.InstanceID == "consul-1" && in.Status == "UP" && in.ActionType == "MODIFIED" {
					return true
				}
			}
		}
		return false
	}, poll.Within(5*time.Second))

	// A Eureka status override on a control instance shows in the model;
	// deleting it restores the instance's own status (not UNKNOWN, which
	// only Eureka clients recover from).
	if code := (springClient{env: env, base: "/eureka"}).statusUpdateApp("PAYMENTS", "ctl-1", "OUT_OF_SERVICE"); code != http.StatusOK {
		t.Fatalf("override: %d", code)
	}
	if got := mustGet(t, env, "payments", "ctl-1"); got.EffectiveStatus() != registry.StatusOutOfService || got.Healthy() {
		t.Errorf("after override: %s healthy=%v", got.EffectiveStatus(), got.Healthy())
	}
	if code, _, _ := env.do(http.MethodDelete, "/eureka/apps/PAYMENTS/ctl-1/status", ""); code != http.StatusOK {
		t.Fatalf("delete override: %d", code)
	}
	if got := mustGet(t, env, "payments", "ctl-1"); got.EffectiveStatus() != registry.StatusUp || got.OverriddenStatus != "" {
		t.Errorf("after deleting the override: status %s override %q", got.Status, got.OverriddenStatus)
	}
	// Renewing a non-Eureka instance through Eureka works too.
	if code, _ := c.heartbeat("ctl-1", "UP", 0); code != http.StatusNotFound {
		// ORDERS is not its app: the heartbeat path names the app.
		t.Errorf("heartbeat under the wrong app: %d, want 404", code)
	}
	if code, _, _ := env.do(http.MethodPut, "/eureka/apps/PAYMENTS/ctl-1", ""); code != http.StatusOK {
		t.Errorf("heartbeat of a control instance: %d", code)
	}
}

// statusUpdateApp is statusUpdate for any app.
func (c springClient) statusUpdateApp(app, id, status string) int {
	code, _, _ := c.env.do(http.MethodPut, c.base+"/apps/"+app+"/"+id+"/status?value="+status, "", "Content-Type", "application/json")
	return code
}

// TestEurekaInstanceInOtherViews checks the model an Eureka registration
// leaves for the Consul and Nacos views and the control API.
func TestEurekaInstanceInOtherViews(t *testing.T) {
	env := newEnv(t)
	if code, _ := (springClient{env: env, base: "/eureka"}).register(springBody(t)); code != http.StatusNoContent {
		t.Fatalf("register: %d", code)
	}
	list, _, err := env.store.List(context.Background(), registry.Filter{Service: "Orders", HealthyOnly: true})
	if err != nil || len(list) != 1 {
		t.Fatalf("list by canonical service: %v %d", err, len(list))
	}
	in := list[0]
	if in.Service != "orders" || in.ServiceKey != "orders" || in.Group != registry.DefaultGroup ||
		in.Namespace != registry.DefaultNamespace || in.Address() != "10.1.2.3:8080" || in.Scheme != "http" ||
		in.Attributes[attrStatusPageURL] != "http://10.1.2.3:8080/actuator/info" || in.Metadata["management.port"] != "8080" {
		t.Errorf("model of a Spring registration: %+v", in)
	}
	for k := range in.Metadata {
		if len(k) > 7 && k[:7] == "eureka." {
			t.Errorf("Eureka-only field %q leaked into metadata", k)
		}
	}
}
