package registry

import "testing"

func TestEffectiveStatusFollowsEurekaRules(t *testing.T) {
	cases := []struct {
		status, override, want Status
	}{
		{StatusUp, "", StatusUp},
		{StatusUp, StatusOutOfService, StatusOutOfService},
		{StatusDown, StatusOutOfService, StatusOutOfService},
		{StatusDown, StatusUp, StatusDown},         // the client's DOWN wins over an UP override
		{StatusStarting, StatusUp, StatusStarting}, // likewise STARTING
		{StatusUp, StatusDown, StatusDown},
		{StatusUp, StatusUnknown, StatusUp},
	}
	for _, c := range cases {
		i := &Instance{Status: c.status, OverriddenStatus: c.override}
		if got := i.EffectiveStatus(); got != c.want {
			t.Errorf("status %s override %q: got %s, want %s", c.status, c.override, got, c.want)
		}
	}
}

func TestNormalizeDerivesLabels(t *testing.T) {
	i := &Instance{Service: " Orders ", Metadata: map[string]string{"version": "v2", "label.tier": "gold", "other": "x"}, Labels: map[string]string{"version": "explicit"}}
	i.Normalize()
	if i.ServiceKey != "orders" || i.Service != "Orders" {
		t.Fatalf("service %q key %q", i.Service, i.ServiceKey)
	}
	if i.Labels["version"] != "explicit" || i.Labels["tier"] != "gold" || i.Labels["other"] != "" {
		t.Fatalf("labels %v", i.Labels)
	}
	if i.Namespace != DefaultNamespace || i.Group != DefaultGroup || i.Cluster != DefaultCluster || i.Weight != 1 || i.Status != StatusUp || i.Health != HealthPassing {
		t.Fatalf("defaults %+v", i)
	}
}

func TestSetMetadataRederivesLabels(t *testing.T) {
	i := &Instance{Service: "orders", Metadata: map[string]string{"version": "v1", "label.tier": "gold", "canary": "true"},
		Labels: map[string]string{"canary": "explicit"}}
	i.Normalize()
	i.SetMetadata("version", "v2")
	i.SetMetadata("label.tier", "silver")
	i.SetMetadata("canary", "false")
	i.SetMetadata("new", "x")
	i.Normalize()
	want := map[string]string{"version": "v2", "tier": "silver", "canary": "explicit"}
	for k, v := range want {
		if i.Labels[k] != v {
			t.Errorf("label %s = %q, want %q (all %v)", k, i.Labels[k], v, i.Labels)
		}
	}
	if i.Metadata["new"] != "x" || i.Metadata["canary"] != "false" {
		t.Errorf("metadata %v", i.Metadata)
	}
}

func TestNormalizeTrimsNamespaceAndGroup(t *testing.T) {
	i := &Instance{Service: "orders", Namespace: " dev ", Group: "  "}
	i.Normalize()
	if i.Namespace != "dev" || i.Group != DefaultGroup {
		t.Fatalf("namespace %q group %q, want them trimmed (and the blank group defaulted)", i.Namespace, i.Group)
	}
	i.ID = "x"
	if k := NewInstanceKey(" dev ", "  ", "Orders", "x"); k != i.Key() {
		t.Fatalf("NewInstanceKey %+v does not match the normalised instance's key %+v", k, i.Key())
	}
}
