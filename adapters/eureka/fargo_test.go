package eureka

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/registry"
)

// TestFargo drives the real hudl/fargo v1.4.0 client through its whole
// life cycle, in XML (its default) and JSON mode, under both base paths.
func TestFargo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		useJSON bool
		base    string
	}{
		{"xml_v2", false, "/eureka/v2"},
		{"json_v2", true, "/eureka/v2"},
		{"xml_spring_path", false, "/eureka"},
		{"json_spring_path", true, "/eureka"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			conn := fargo.NewConn(env.url + tc.base)
			conn.UseJson = tc.useJSON
			ins := newFargoInstance("fargo-1")
			ctx := context.Background()

			if err := conn.RegisterInstance(ins); err != nil {
				t.Fatalf("register: %v", err)
			}
			stored, err := env.store.Get(ctx, registry.NewInstanceKey("", "", "fargoapp", "fargo-1"))
			if err != nil {
				t.Fatalf("registered instance not in the store: %v", err)
			}
			checkStoredFargoInstance(t, stored)

			// RegisterInstance probes first and must skip an existing instance.
			rev := env.store.Revision()
			if err := conn.RegisterInstance(ins); err != nil {
				t.Fatalf("second register: %v", err)
			}
			if got := env.store.Revision(); got != rev {
				t.Errorf("second RegisterInstance wrote to the store (revision %d -> %d)", rev, got)
			}

			if err := conn.HeartBeatInstance(ins); err != nil {
				t.Fatalf("heartbeat: %v", err)
			}

			apps, err := conn.GetApps()
			if err != nil {
				t.Fatalf("get apps: %v", err)
			}
			app := apps["FARGOAPP"]
			if app == nil || len(app.Instances) != 1 {
				t.Fatalf("GetApps: want FARGOAPP with 1 instance, got %+v", apps)
			}
			checkFargoView(t, app.Instances[0], fargo.UP)

			one, err := conn.GetApp("FARGOAPP")
			if err != nil {
				t.Fatalf("get app: %v", err)
			}
			if len(one.Instances) != 1 {
				t.Fatalf("GetApp: want 1 instance, got %d", len(one.Instances))
			}
			checkFargoView(t, one.Instances[0], fargo.UP)

			byVIP, err := conn.GetInstancesByVIPAddress("fargoapp", false)
			if err != nil || len(byVIP) != 1 || byVIP[0].Id() != "fargo-1" {
				t.Fatalf("GetInstancesByVIPAddress: %v, %d instances", err, len(byVIP))
			}
			bySVIP, err := conn.GetInstancesByVIPAddress("fargoapp-secure", true)
			if err != nil || len(bySVIP) != 1 {
				t.Fatalf("secure VIP: %v, %d instances", err, len(bySVIP))
			}
			none, err := conn.GetInstancesByVIPAddress("nobody", false)
			if err != nil || len(none) != 0 {
				t.Fatalf("unknown VIP: want no instances and no error, got %v, %d", err, len(none))
			}

			if err := conn.UpdateInstanceStatus(ins, fargo.OUTOFSERVICE); err != nil {
				t.Fatalf("update status: %v", err)
			}
			one, err = conn.GetApp("FARGOAPP")
			if err != nil {
				t.Fatalf("get app after override: %v", err)
			}
			checkFargoView(t, one.Instances[0], fargo.OUTOFSERVICE)
			if got := one.Instances[0].Overriddenstatus; got != fargo.OUTOFSERVICE {
				t.Errorf("overriddenstatus = %q, want OUT_OF_SERVICE", got)
			}
			if st := mustGet(t, env, "fargoapp", "fargo-1"); st.EffectiveStatus() != registry.StatusOutOfService {
				t.Errorf("store effective status = %s, want OUT_OF_SERVICE", st.EffectiveStatus())
			}
			upOnly, err := conn.GetInstancesByVIPAddress("fargoapp", false, fargo.ThatAreUp)
			if err != nil || len(upOnly) != 0 {
				t.Errorf("ThatAreUp after OUT_OF_SERVICE: %v, %d instances", err, len(upOnly))
			}

			if err := conn.AddMetadataString(ins, "version", "v2"); err != nil {
				t.Fatalf("add metadata: %v", err)
			}
			one, err = conn.GetApp("FARGOAPP")
			if err != nil {
				t.Fatalf("get app after metadata: %v", err)
			}
			if v, err := one.Instances[0].Metadata.GetString("version"); err != nil || v != "v2" {
				t.Errorf("metadata version = %q (%v), want v2", v, err)
			}
			st := mustGet(t, env, "fargoapp", "fargo-1")
			if st.Metadata["version"] != "v2" || st.Labels["version"] != "v2" || st.Metadata["zone"] != "z1" {
				t.Errorf("store metadata/labels after update: %v / %v", st.Metadata, st.Labels)
			}
			// A changed version moves the label derived from it (canary routing reads labels).
			if err := conn.AddMetadataString(ins, "version", "v3"); err != nil {
				t.Fatalf("add metadata: %v", err)
			}
			if st := mustGet(t, env, "fargoapp", "fargo-1"); st.Metadata["version"] != "v3" || st.Labels["version"] != "v3" {
				t.Errorf("store metadata/labels after a second update: %v / %v", st.Metadata, st.Labels)
			}

			if err := conn.DeregisterInstance(ins); err != nil {
				t.Fatalf("deregister: %v", err)
			}
			if _, err := conn.GetApp("FARGOAPP"); !errors.As(err, new(fargo.AppNotFoundError)) {
				t.Errorf("GetApp after deregister: want AppNotFoundError, got %v", err)
			}
			if n := len(env.mustList()); n != 0 {
				t.Errorf("store holds %d instances after deregister", n)
			}

			// A heartbeat for an unknown instance gets 404; the client registers again.
			err = conn.HeartBeatInstance(ins)
			if code, ok := fargo.HTTPResponseStatusCode(err); !ok || code != http.StatusNotFound {
				t.Fatalf("heartbeat after deregister: want 404, got %v", err)
			}
			if err := conn.ReregisterInstance(ins); err != nil {
				t.Fatalf("re-register: %v", err)
			}
			if err := conn.HeartBeatInstance(ins); err != nil {
				t.Fatalf("heartbeat after re-register: %v", err)
			}
			// The override survived in the client's copy but a fresh
			// registration after a cancel starts without one.
			apps, err = conn.GetApps()
			if err != nil || apps["FARGOAPP"] == nil || len(apps["FARGOAPP"].Instances) != 1 {
				t.Fatalf("GetApps after re-register: %v %+v", err, apps)
			}
		})
	}
}

func newFargoInstance(id string) *fargo.Instance {
	ins := &fargo.Instance{
		InstanceId:        id,
		HostName:          "fargo-host.local",
		App:               "FARGOAPP",
		IPAddr:            "10.0.0.7",
		VipAddress:        "fargoapp",
		SecureVipAddress:  "fargoapp-secure",
		Status:            fargo.UP,
		Port:              8080,
		PortEnabled:       true,
		SecurePort:        8443,
		SecurePortEnabled: false,
		HomePageUrl:       "http://fargo-host.local:8080/",
		HealthCheckUrl:    "http://fargo-host.local:8080/health",
		DataCenterInfo:    fargo.DataCenterInfo{Name: fargo.MyOwn},
		LeaseInfo:         fargo.LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 90},
	}
	ins.SetMetadataString("zone", "z1")
	return ins
}

func checkStoredFargoInstance(t *testing.T, st *registry.Instance) {
	t.Helper()
	want := []struct {
		name      string
		got, want any
	}{
		{"service", st.Service, "fargoapp"},
		{"host", st.Host, "fargo-host.local"},
		{"port", st.Port, 8080},
		{"securePort", st.SecurePort, 8443},
		{"secureEnabled", st.SecureEnabled, false},
		{"status", st.Status, registry.StatusUp},
		{"origin", st.Origin, registry.OriginEureka},
		{"zone", st.Zone, "z1"},
		{"metadata zone", st.Metadata["zone"], "z1"},
		{"lease renewal", st.Lease.RenewalInterval, 30 * time.Second},
		{"lease duration", st.Lease.Duration, 90 * time.Second},
		{"ephemeral", st.Ephemeral, true},
		{"ipAddr attribute", st.Attributes[attrIPAddr], "10.0.0.7"},
		{"vip attribute", st.Attributes[attrVIPAddress], "fargoapp"},
		{"health URL attribute", st.Attributes[attrHealthCheckURL], "http://fargo-host.local:8080/health"},
	}
	for _, w := range want {
		if w.got != w.want {
			t.Errorf("stored %s = %v, want %v", w.name, w.got, w.want)
		}
	}
}

func checkFargoView(t *testing.T, got *fargo.Instance, status fargo.StatusType) {
	t.Helper()
	if got.Id() != "fargo-1" || got.App != "FARGOAPP" || got.HostName != "fargo-host.local" || got.IPAddr != "10.0.0.7" {
		t.Errorf("identity: id=%q app=%q host=%q ip=%q", got.Id(), got.App, got.HostName, got.IPAddr)
	}
	if got.Port != 8080 || !got.PortEnabled || got.SecurePort != 8443 || got.SecurePortEnabled {
		t.Errorf("ports: %d/%v %d/%v", got.Port, got.PortEnabled, got.SecurePort, got.SecurePortEnabled)
	}
	if got.Status != status {
		t.Errorf("status = %q, want %q", got.Status, status)
	}
	if got.VipAddress != "fargoapp" || got.SecureVipAddress != "fargoapp-secure" {
		t.Errorf("VIPs: %q %q", got.VipAddress, got.SecureVipAddress)
	}
	if got.DataCenterInfo.Name != fargo.MyOwn {
		t.Errorf("data center = %q", got.DataCenterInfo.Name)
	}
	if got.LeaseInfo.RenewalIntervalInSecs != 30 || got.LeaseInfo.DurationInSecs != 90 || got.LeaseInfo.RegistrationTimestamp == 0 {
		t.Errorf("lease info: %+v", got.LeaseInfo)
	}
	if z, err := got.Metadata.GetString("zone"); err != nil || z != "z1" {
		t.Errorf("metadata zone = %q (%v)", z, err)
	}
	if got.HealthCheckUrl != "http://fargo-host.local:8080/health" {
		t.Errorf("healthCheckUrl = %q", got.HealthCheckUrl)
	}
}

func mustGet(t *testing.T, env *testEnv, service, id string) *registry.Instance {
	t.Helper()
	st, err := env.store.Get(context.Background(), registry.NewInstanceKey("", "", service, id))
	if err != nil {
		t.Fatalf("get %s/%s: %v", service, id, err)
	}
	return st
}
