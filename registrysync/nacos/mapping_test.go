package nacos

import (
	"strings"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

func copyInstance(edit func(*registry.Instance)) *registry.Instance {
	inst := &registry.Instance{
		ID: "orders-1", Service: "orders", Host: "10.0.0.5", Port: 8080,
		Status: registry.StatusUp, Health: registry.HealthPassing,
		Metadata: map[string]string{"version": "v2", registrysync.MetaOwner: "syncer-a", registrysync.MetaOrigin: "eureka-1"},
	}
	edit(inst)
	return inst
}

func TestToNacos(t *testing.T) {
	type want struct {
		ns, group        string
		port             uint64
		healthy, enabled bool
		weight           float64
		cluster          string
		meta             map[string]string
		err              string
	}
	up := want{ns: "public", group: "DEFAULT_GROUP", port: 8080, healthy: true, enabled: true, weight: 1, cluster: "DEFAULT"}
	with := func(edit func(*want)) want { w := up; edit(&w); return w }
	cases := []struct {
		name string
		edit func(*registry.Instance)
		want want
	}{
		{"up and passing", func(*registry.Instance) {}, up},
		{"health warning is still healthy", func(i *registry.Instance) { i.Health = registry.HealthWarning }, up},
		{"down", func(i *registry.Instance) { i.Status = registry.StatusDown }, with(func(w *want) { w.healthy = false })},
		{"starting", func(i *registry.Instance) { i.Status = registry.StatusStarting }, with(func(w *want) { w.healthy = false })},
		{"unknown", func(i *registry.Instance) { i.Status = registry.StatusUnknown }, with(func(w *want) { w.healthy = false })},
		{"out of service", func(i *registry.Instance) { i.Status = registry.StatusOutOfService }, with(func(w *want) { w.healthy = false })},
		{"out of service by override", func(i *registry.Instance) { i.OverriddenStatus = registry.StatusOutOfService }, with(func(w *want) { w.healthy = false })},
		{"checks critical", func(i *registry.Instance) { i.Health = registry.HealthCritical }, with(func(w *want) { w.healthy = false })},
		{"disabled", func(i *registry.Instance) { i.Disabled = true }, with(func(w *want) { w.enabled = false })},
		{"weight kept", func(i *registry.Instance) { i.Weight = 7.5 }, with(func(w *want) { w.weight = 7.5 })},
		{"weight 0 from a Nacos source", func(i *registry.Instance) {
			i.Disabled, i.Attributes = true, map[string]string{"nacos.weight": "0", "nacos.enabled": "true"}
		}, with(func(w *want) { w.weight = 0 })},
		{"namespace and group", func(i *registry.Instance) { i.Namespace, i.Group = "dev", "blue" }, with(func(w *want) { w.ns, w.group = "dev", "blue" })},
		{"cluster", func(i *registry.Instance) { i.Cluster = "hz-a" }, with(func(w *want) { w.cluster = "hz-a" })},
		{"enabled secure port wins", func(i *registry.Instance) { i.SecurePort, i.SecureEnabled = 8443, true },
			with(func(w *want) { w.port, w.meta = 8443, map[string]string{"secure": "true"} })},
		{"secure port only", func(i *registry.Instance) { i.Port, i.SecurePort, i.SecureEnabled = 0, 8443, true },
			with(func(w *want) { w.port, w.meta = 8443, map[string]string{"secure": "true"} })},
		{"disabled secure port ignored", func(i *registry.Instance) { i.SecurePort = 443 }, up},
		{"zone into metadata", func(i *registry.Instance) { i.Zone = "zone-b" }, with(func(w *want) { w.meta = map[string]string{"zone": "zone-b"} })},
		{"zone metadata wins", func(i *registry.Instance) { i.Zone, i.Metadata["zone"] = "zone-b", "zone-c" },
			with(func(w *want) { w.meta = map[string]string{"zone": "zone-c"} })},
		{"cluster Nacos refuses", func(i *registry.Instance) { i.Cluster = "hz_a" }, want{err: `cluster "hz_a"`}},
		{"weight over Nacos's limit", func(i *registry.Instance) { i.Weight = 20000 }, want{err: "weight 20000"}},
		{"no port", func(i *registry.Instance) { i.Port = 0 }, want{err: "no port"}},
		{"host no view can carry", func(i *registry.Instance) { i.Host = "10.0.0.5:80" }, want{err: "host"}},
		{"group separator in the service", func(i *registry.Instance) { i.Service = "g@@orders" }, want{err: "service"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inst := copyInstance(tc.edit)
			before := inst.Clone()
			key, p, err := toNacos(inst)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("err %v, want one with %q", err, tc.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			if key.Namespace != w.ns || key.Group != w.group || key.Service != "orders" || p.ServiceName != "orders" || p.GroupName != w.group {
				t.Errorf("key %+v, param %s/%s", key, p.GroupName, p.ServiceName)
			}
			if p.Ip != "10.0.0.5" || p.Port != w.port || p.Healthy != w.healthy || p.Enable != w.enabled || p.Weight != w.weight ||
				p.ClusterName != w.cluster || !p.Ephemeral {
				t.Errorf("param %+v, want %+v", p, w)
			}
			if p.Metadata[MetaCopyID] != "orders-1" || p.Metadata[registrysync.MetaOwner] != "syncer-a" || p.Metadata["version"] != "v2" {
				t.Errorf("metadata %v lost the id, the markers or the app's own", p.Metadata)
			}
			for k, v := range w.meta {
				if p.Metadata[k] != v {
					t.Errorf("metadata %s=%q, want %q", k, p.Metadata[k], v)
				}
			}
			if _, ok := inst.Metadata[MetaCopyID]; ok || inst.Port != before.Port || len(inst.Metadata) != len(before.Metadata) {
				t.Errorf("toNacos changed its argument: %+v", inst)
			}
		})
	}
}

func TestFromNacos(t *testing.T) {
	key := registrysync.ServiceKey{Namespace: "dev", Group: "blue", Service: "orders"}
	host := func(edit func(*model.Instance)) model.Instance {
		h := model.Instance{
			InstanceId: "10.0.0.5#8080#DEFAULT#blue@@orders", Ip: "10.0.0.5", Port: 8080, Weight: 1,
			Healthy: true, Enable: true, Ephemeral: true, ClusterName: "DEFAULT", ServiceName: "blue@@orders",
			Metadata: map[string]string{"version": "v2"},
		}
		edit(&h)
		return h
	}
	cases := []struct {
		name  string
		host  model.Instance
		check func(t *testing.T, in *registry.Instance)
		err   string
	}{
		{"healthy and enabled", host(func(*model.Instance) {}), func(t *testing.T, in *registry.Instance) {
			if in.Status != registry.StatusUp || in.Health != registry.HealthPassing || in.Disabled || !in.Healthy() {
				t.Errorf("status %s health %s disabled %v", in.Status, in.Health, in.Disabled)
			}
			if in.ID != "10.0.0.5#8080#DEFAULT#blue@@orders" || in.Namespace != "dev" || in.Group != "blue" || in.Service != "orders" ||
				in.Host != "10.0.0.5" || in.Port != 8080 || in.Cluster != "DEFAULT" || in.Weight != 1 {
				t.Errorf("identity or address: %+v", in)
			}
			if in.Labels["version"] != "v2" {
				t.Errorf("labels %v, want version v2 from the metadata", in.Labels)
			}
		}, ""},
		{"unhealthy is health critical", host(func(h *model.Instance) { h.Healthy = false }), func(t *testing.T, in *registry.Instance) {
			if in.Health != registry.HealthCritical || in.Healthy() {
				t.Errorf("health %s", in.Health)
			}
		}, ""},
		{"disabled", host(func(h *model.Instance) { h.Enable = false }), func(t *testing.T, in *registry.Instance) {
			if !in.Disabled || in.Healthy() {
				t.Errorf("disabled %v", in.Disabled)
			}
		}, ""},
		{"weight 0 is disabled", host(func(h *model.Instance) { h.Weight = 0 }), func(t *testing.T, in *registry.Instance) {
			if !in.Disabled || in.Weight != 1 || in.Attributes["nacos.weight"] != "0" {
				t.Errorf("disabled %v weight %v attributes %v", in.Disabled, in.Weight, in.Attributes)
			}
		}, ""},
		{"weight kept", host(func(h *model.Instance) { h.Weight = 3 }), func(t *testing.T, in *registry.Instance) {
			if in.Weight != 3 {
				t.Errorf("weight %v", in.Weight)
			}
		}, ""},
		{"secure", host(func(h *model.Instance) { h.Metadata["secure"] = "true" }), func(t *testing.T, in *registry.Instance) {
			if !in.SecureEnabled || in.SecurePort != 8080 || in.Scheme != "https" {
				t.Errorf("secure port %d enabled %v scheme %s", in.SecurePort, in.SecureEnabled, in.Scheme)
			}
		}, ""},
		{"zone", host(func(h *model.Instance) { h.Metadata["zone"] = "zone-b" }), func(t *testing.T, in *registry.Instance) {
			if in.Zone != "zone-b" || in.Labels["zone"] != "zone-b" {
				t.Errorf("zone %q labels %v", in.Zone, in.Labels)
			}
		}, ""},
		{"a copy keeps the id it was written with", host(func(h *model.Instance) {
			h.Metadata[MetaCopyID], h.Metadata[registrysync.MetaOwner] = "orders-1", "syncer-a"
		}), func(t *testing.T, in *registry.Instance) {
			if in.ID != "orders-1" || !registrysync.IsCopy(in) {
				t.Errorf("id %s, copy %v", in.ID, registrysync.IsCopy(in))
			}
			if _, ok := in.Metadata[MetaCopyID]; ok {
				t.Errorf("the id key stayed in the metadata: %v", in.Metadata)
			}
		}, ""},
		{"an app's id key is not trusted", host(func(h *model.Instance) { h.Metadata[MetaCopyID] = "spoofed" }), func(t *testing.T, in *registry.Instance) {
			if in.ID == "spoofed" {
				t.Errorf("an instance without an owner marker took its id from the metadata")
			}
		}, ""},
		{"ip no view can carry", host(func(h *model.Instance) { h.Ip = "10.0.0.5 " }), nil, "ip"},
		{"port over 65535", host(func(h *model.Instance) { h.Port = 70000 }), nil, "port 70000"},
		{"cluster Nacos itself refuses", host(func(h *model.Instance) { h.ClusterName = "a b" }), nil, "clusterName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := fromNacos(key, tc.host)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, in)
		})
	}
}

// A copy read back by the source is the copy that was written: the
// fields the engine compares survive the trip through Nacos's shapes.
func TestCopyRoundTrip(t *testing.T) {
	inst := copyInstance(func(i *registry.Instance) {
		i.Namespace, i.Group, i.Cluster, i.Weight, i.Zone = "dev", "blue", "hz-a", 4, "zone-b"
	})
	key, p, err := toNacos(inst)
	if err != nil {
		t.Fatal(err)
	}
	back, err := fromNacos(registrysync.ServiceKey{Namespace: key.Namespace, Group: key.Group, Service: key.Service}, model.Instance{
		InstanceId: "server-made", Ip: p.Ip, Port: p.Port, Weight: p.Weight, Healthy: p.Healthy, Enable: p.Enable,
		Ephemeral: true, ClusterName: p.ClusterName, Metadata: p.Metadata,
	})
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != inst.ID || back.Service != inst.Service || back.Namespace != "dev" || back.Group != "blue" ||
		back.Host != inst.Host || back.Port != inst.Port || back.Cluster != "hz-a" || back.Weight != 4 || back.Zone != "zone-b" ||
		back.Status != registry.StatusUp || back.Health != registry.HealthPassing || back.Metadata[registrysync.MetaOrigin] != "eureka-1" {
		t.Errorf("round trip\n got %+v\nfrom %+v", back, inst)
	}
}
