package nacos_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// Copies that are DOWN, STARTING, OUT_OF_SERVICE or failing their checks
// reach Nacos consumers as healthy=false, so selectInstances(healthy=true)
// (Spring Cloud Alibaba's getInstances) leaves them out; a disabled copy
// is enabled=false, which Nacos lists to no one. A source reading them
// back sees health critical and the disabled copy not at all.
func TestDownAndDisabledCopiesAsNacosConsumersSeeThem(t *testing.T) {
	s := startServer(t)
	c := s.connector(t, s.config(), "syncer-a")
	type want struct {
		listed, healthy bool
	}
	cases := []struct {
		id   string
		edit func(*registry.Instance)
		want want
	}{
		{"up", func(*registry.Instance) {}, want{true, true}},
		{"warning", func(i *registry.Instance) { i.Health = registry.HealthWarning }, want{true, true}},
		{"down", func(i *registry.Instance) { i.Status = registry.StatusDown }, want{true, false}},
		{"starting", func(i *registry.Instance) { i.Status = registry.StatusStarting }, want{true, false}},
		{"out-of-service", func(i *registry.Instance) { i.OverriddenStatus = registry.StatusOutOfService }, want{true, false}},
		{"critical", func(i *registry.Instance) { i.Health = registry.HealthCritical }, want{true, false}},
		{"disabled", func(i *registry.Instance) { i.Disabled = true }, want{false, false}},
	}
	for n, tc := range cases {
		cp := connectortest.Copy(connectortest.App("billing", tc.id, 18200+n), "legacy-eureka", "syncer-a")
		tc.edit(cp)
		if err := c.Put(bounded(t), cp); err != nil {
			t.Fatalf("put %s: %v", tc.id, err)
		}
	}
	consumer := s.client(t, "public")
	var all []model.Instance
	poll.UntilNil(t, "the six listed copies", func() error {
		all = hosts(t, consumer, "DEFAULT_GROUP", "billing")
		if len(all) != 6 {
			return fmt.Errorf("%d hosts", len(all))
		}
		return nil
	})
	for n, tc := range cases {
		h := hostAt(all, uint64(18200+n))
		switch {
		case h == nil && tc.want.listed:
			t.Errorf("%s: not listed to consumers", tc.id)
		case h != nil && !tc.want.listed:
			t.Errorf("%s: listed to consumers, want it hidden as Nacos hides disabled instances", tc.id)
		case h != nil && h.Healthy != tc.want.healthy:
			t.Errorf("%s: healthy=%v, want %v", tc.id, h.Healthy, tc.want.healthy)
		}
	}
	selected, err := consumer.SelectInstances(vo.SelectInstancesParam{ServiceName: "billing", HealthyOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := wantPorts(selected, 18200, 18201); err != nil {
		t.Errorf("selectInstances(healthy=true): %v", err)
	}

	// Read back by a source, as a syncer exporting this Nacos would.
	reader := s.connector(t, s.config(), "syncer-b")
	u := next(t, follow(t, reader), 10*time.Second, "a complete listing with billing", func(u registrysync.Update) bool {
		return u.Complete && find(u, "billing", "up") != nil
	})
	for _, tc := range cases {
		got := find(u, "billing", tc.id)
		switch {
		case got == nil && tc.want.listed:
			t.Errorf("%s: not listed by the source", tc.id)
		case got != nil && !tc.want.listed:
			t.Errorf("%s: listed by the source", tc.id)
		case got != nil && got.Healthy() != tc.want.healthy:
			t.Errorf("%s: read back with status %s, health %s: Healthy()=%v, want %v", tc.id, got.Status, got.Health, got.Healthy(), tc.want.healthy)
		}
	}
}

// An app that registers itself unhealthy or with weight 0 is read as
// health critical or disabled: either way the mesh sends it nothing.
func TestSourceMapsUnhealthyAndWeightZeroApps(t *testing.T) {
	s := startServer(t)
	apps := newApps(t, s)
	sick := connectortest.App("ledger", "", 18220)
	sick.Health = registry.HealthCritical
	apps.register(t, sick)
	idle := connectortest.App("ledger", "", 18221)
	registerWeightZero(t, s, idle)
	c := s.connector(t, s.config(), "syncer-a")
	u := next(t, follow(t, c), 10*time.Second, "a complete listing with both ledger apps", func(u registrysync.Update) bool {
		return u.Complete && find(u, "ledger", sick.ID) != nil && find(u, "ledger", idle.ID) != nil
	})
	if got := find(u, "ledger", sick.ID); got.Health != registry.HealthCritical || got.Healthy() {
		t.Errorf("unhealthy app read as health %s (Healthy()=%v), want critical", got.Health, got.Healthy())
	}
	if got := find(u, "ledger", idle.ID); !got.Disabled || got.Healthy() {
		t.Errorf("weight-0 app read as disabled=%v (Healthy()=%v), want disabled", got.Disabled, got.Healthy())
	}
}

// registerWeightZero registers inst as an app with weight 0 and sets its
// id as Nacos makes it.
func registerWeightZero(t *testing.T, s *server, inst *registry.Instance) {
	t.Helper()
	c := s.client(t, "public")
	ok, err := c.RegisterInstance(vo.RegisterInstanceParam{
		Ip: inst.Host, Port: uint64(inst.Port), Weight: 0, Enable: true, Healthy: true,
		ServiceName: inst.Service, Ephemeral: true, Metadata: inst.Metadata,
	})
	if err != nil || !ok {
		t.Fatalf("register with weight 0: ok=%v err=%v", ok, err)
	}
	inst.ID = naming.InstanceID(inst.Host, inst.Port, naming.DefaultCluster, naming.DefaultGroup, inst.Service)
}

func hostAt(hosts []model.Instance, port uint64) *model.Instance {
	for i := range hosts {
		if hosts[i].Port == port {
			return &hosts[i]
		}
	}
	return nil
}
