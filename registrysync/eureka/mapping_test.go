package eureka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hudl/fargo"

	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// TestStatusToEureka puts copies in every state the model has and reads
// the status Eureka shows for them through fargo; then moves one copy
// through the states, OUT_OF_SERVICE and back included.
func TestStatusToEureka(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	c := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	cases := []struct {
		name string
		set  func(*registry.Instance)
		want fargo.StatusType
	}{
		{"up", func(*registry.Instance) {}, fargo.UP},
		{"down", func(i *registry.Instance) { i.Status = registry.StatusDown }, fargo.DOWN},
		{"starting", func(i *registry.Instance) { i.Status = registry.StatusStarting }, fargo.STARTING},
		{"out of service", func(i *registry.Instance) { i.Status = registry.StatusOutOfService }, fargo.OUTOFSERVICE},
		{"override out of service", func(i *registry.Instance) { i.OverriddenStatus = registry.StatusOutOfService }, fargo.OUTOFSERVICE},
		{"disabled (nacos enabled=false)", func(i *registry.Instance) { i.Disabled = true }, fargo.OUTOFSERVICE},
		{"health critical (consul)", func(i *registry.Instance) { i.Health = registry.HealthCritical }, fargo.DOWN},
		{"health warning (consul)", func(i *registry.Instance) { i.Health = registry.HealthWarning }, fargo.UP},
		{"unknown", func(i *registry.Instance) { i.Status = registry.StatusUnknown }, fargo.STARTING},
	}
	for n, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := "status-" + strings.ReplaceAll(tc.name, " ", "-")
			cp := connectortest.Copy(connectortest.App("status", id, 8000+n), "legacy", "syncer-a")
			tc.set(cp)
			put(t, c, cp)
			if got := s.instance(t, "STATUS", id); got == nil || got.Status != tc.want {
				t.Fatalf("shown as %v, want %s", got, tc.want)
			}
		})
	}
	t.Run("transitions", func(t *testing.T) {
		cp := connectortest.Copy(connectortest.App("status", "status-moves", 8100), "legacy", "syncer-a")
		for _, step := range []registry.Status{
			registry.StatusUp, registry.StatusOutOfService, registry.StatusUp, registry.StatusDown,
			registry.StatusOutOfService, registry.StatusStarting, registry.StatusUp,
		} {
			cp.Status = step
			put(t, c, cp)
			if got := s.instance(t, "STATUS", "status-moves"); got == nil || got.Status != fargo.StatusType(step) {
				t.Fatalf("after a put with %s, shown as %+v", step, got)
			}
		}
	})
}

// TestMappingRoundTrip puts a copy with every field the mapping carries,
// lists it back through the source and reads it through fargo.
func TestMappingRoundTrip(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	c := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	cp := connectortest.Copy(connectortest.App("Orders", "orders-7", 8080), "legacy", "syncer-a")
	cp.SecurePort, cp.SecureEnabled = 8443, true
	cp.Zone = "zone-b"
	cp.Metadata["management.port"] = "8081"
	cp.Attributes = map[string]string{
		"eureka.statusPageUrl":           "http://127.0.0.1:8080/actuator/info",
		"eureka.healthCheckUrl":          "http://127.0.0.1:8080/actuator/health",
		"eureka.homePageUrl":             "http://127.0.0.1:8080/home",
		"eureka.dataCenterInfo.name":     "Amazon",
		"eureka.dataCenterInfo.metadata": `{"availability-zone":"us-east-1a","instance-id":"i-123"}`,
		"eureka.ipAddr":                  "10.0.0.7",
	}
	put(t, c, cp)

	w := s.instance(t, "ORDERS", "orders-7")
	if w == nil {
		t.Fatal("not registered")
	}
	checks := []struct{ field, got, want string }{
		{"app", w.App, "ORDERS"},
		{"vipAddress", w.VipAddress, "Orders"},
		{"ipAddr", w.IPAddr, "10.0.0.7"},
		{"statusPageUrl", w.StatusPageUrl, "http://127.0.0.1:8080/actuator/info"},
		{"dataCenterInfo", w.DataCenterInfo.Name + "/" + w.DataCenterInfo.Metadata.AvailabilityZone, "Amazon/us-east-1a"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: %q, want %q", ck.field, ck.got, ck.want)
		}
	}
	if w.SecurePort != 8443 || !w.SecurePortEnabled || w.Port != 8080 || !w.PortEnabled {
		t.Errorf("ports %d/%v secure %d/%v, want 8080 and 8443 enabled", w.Port, w.PortEnabled, w.SecurePort, w.SecurePortEnabled)
	}
	if w.LeaseInfo.RenewalIntervalInSecs != int32(renewal/time.Second) || w.LeaseInfo.DurationInSecs != int32(lease/time.Second) {
		t.Errorf("lease %+v, want the sink's %v/%v", w.LeaseInfo, renewal, lease)
	}

	u := next(t, follow(t, c), "the listing")
	got := find(u, "Orders", "orders-7")
	if got == nil {
		t.Fatalf("not listed under Orders: %+v", u.Groups)
	}
	if got.Host != cp.Host || got.Port != cp.Port || got.SecurePort != 8443 || !got.SecureEnabled || got.Zone != "zone-b" {
		t.Errorf("listed %s:%d secure %d/%v zone %q", got.Host, got.Port, got.SecurePort, got.SecureEnabled, got.Zone)
	}
	for k, v := range cp.Metadata {
		if got.Metadata[k] != v {
			t.Errorf("metadata %s: %q, want %q", k, got.Metadata[k], v)
		}
	}
	for k, v := range cp.Attributes {
		if k == "eureka.dataCenterInfo.metadata" {
			continue // fargo's Amazon type writes all its keys
		}
		if got.Attributes[k] != v {
			t.Errorf("attribute %s: %q, want %q", k, got.Attributes[k], v)
		}
	}
	if !registrysync.IsCopy(got) {
		t.Errorf("the copy lost its markers: %v", got.Metadata)
	}
}

// TestPutRefusesWhatEurekaCannotHold: a record Eureka cannot hold gets a
// clear error naming the field, and nothing is written.
func TestPutRefusesWhatEurekaCannotHold(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	c := s.connector(t, registrysync.Env{Name: "eureka-b", Owner: "syncer-a"})
	closeOnCleanup(t, c, true)
	for _, tc := range []struct {
		name, want string
		set        func(*registry.Instance)
	}{
		{"metadata key not an XML name", `metadata."1st"`, func(i *registry.Instance) { i.Metadata["1st"] = "x" }},
		{"metadata key with a space", `metadata."a b"`, func(i *registry.Instance) { i.Metadata["a b"] = "x" }},
		{"id with a slash", "id:", func(i *registry.Instance) { i.ID = "a/b" }},
		{"host with a space", "host:", func(i *registry.Instance) { i.Host = "a b" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := connectortest.Copy(connectortest.App("refused", "refused-1", 8080), "legacy", "syncer-a")
			tc.set(cp)
			err := c.Put(context.Background(), cp)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "eureka: put refused/") {
				t.Fatalf("put: %v; want an error naming %s", err, tc.want)
			}
			if s.instance(t, "REFUSED", "refused-1") != nil {
				t.Fatal("a refused copy was written")
			}
		})
	}
}

func TestReconcileHash(t *testing.T) {
	for _, tc := range []struct {
		counts map[fargo.StatusType]int
		want   string
	}{
		{nil, ""},
		{map[fargo.StatusType]int{fargo.UP: 3}, "UP_3_"},
		{map[fargo.StatusType]int{fargo.UP: 3, fargo.DOWN: 1, fargo.STARTING: 0, fargo.OUTOFSERVICE: 2}, "DOWN_1_OUT_OF_SERVICE_2_UP_3_"},
	} {
		if got := reconcileHash(tc.counts); got != tc.want {
			t.Errorf("reconcileHash(%v) = %q, want %q", tc.counts, got, tc.want)
		}
	}
}
