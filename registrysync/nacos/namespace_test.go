package nacos_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// The source lists every configured namespace and group ("" is public)
// and names each service with its namespace and group; a group it is not
// configured for stays out.
func TestSourceListsConfiguredNamespacesAndGroups(t *testing.T) {
	s := startServer(t)
	apps := newApps(t, s)
	placed := []struct {
		namespace, group, service string
		listed                    bool
	}{
		{"public", "DEFAULT_GROUP", "ns-orders", true},
		{"dev", "blue", "ns-orders", true},
		{"dev", "DEFAULT_GROUP", "ns-pay", true},
		{"dev", "green", "ns-stock", false},
		{"qa", "DEFAULT_GROUP", "ns-qa", false},
	}
	for n, p := range placed {
		inst := connectortest.App(p.service, "", 18300+n)
		inst.Namespace, inst.Group = p.namespace, p.group
		apps.register(t, inst)
	}
	cfg := s.config()
	cfg.Namespaces = []string{"", "dev", "public"}
	cfg.Groups = []string{"DEFAULT_GROUP", "blue"}
	c := s.connector(t, cfg, "syncer-a")
	u := next(t, follow(t, c), 10*time.Second, "a complete listing with ns-pay", func(u registrysync.Update) bool {
		return u.Complete && hasKey(u, registrysync.ServiceKey{Namespace: "dev", Group: "DEFAULT_GROUP", Service: "ns-pay"})
	})
	for n, p := range placed {
		key := registrysync.ServiceKey{Namespace: p.namespace, Group: p.group, Service: p.service}
		g, ok := group(u, key)
		if ok != p.listed {
			t.Errorf("%v listed=%v, want %v", key, ok, p.listed)
			continue
		}
		if !ok {
			continue
		}
		if len(g.Instances) != 1 || g.Instances[0].Port != 18300+n {
			t.Errorf("%v: instances %v, want the one on port %d", key, g.Instances, 18300+n)
			continue
		}
		if in := g.Instances[0]; in.Namespace != p.namespace || in.Group != p.group {
			t.Errorf("%v: instance in %s/%s", key, in.Namespace, in.Group)
		}
	}
	if len(u.Groups) != 3 {
		t.Errorf("%d groups, want 3 (public is listed once though named twice)", len(u.Groups))
	}
}

// The sink writes each copy into its own namespace and group; empty ones
// are Nacos's public and DEFAULT_GROUP.
func TestSinkWritesIntoTheCopysNamespaceAndGroup(t *testing.T) {
	s := startServer(t)
	c := s.connector(t, s.config(), "syncer-a")
	plain := connectortest.Copy(connectortest.App("ns-billing", "billing-1", 18320), "legacy-eureka", "syncer-a")
	plain.Namespace, plain.Group = "", ""
	placed := connectortest.Copy(connectortest.App("ns-billing", "billing-2", 18321), "legacy-eureka", "syncer-a")
	placed.Namespace, placed.Group = "dev", "blue"
	for _, cp := range []*registry.Instance{plain, placed} {
		if err := c.Put(bounded(t), cp); err != nil {
			t.Fatal(err)
		}
	}
	public, dev := s.client(t, "public"), s.client(t, "dev")
	poll.UntilNil(t, "each copy where its namespace and group say", func() error {
		if err := wantPorts(hosts(t, public, "DEFAULT_GROUP", "ns-billing"), 18320); err != nil {
			return fmt.Errorf("public/DEFAULT_GROUP: %w", err)
		}
		if err := wantPorts(hosts(t, dev, "blue", "ns-billing"), 18321); err != nil {
			return fmt.Errorf("dev/blue: %w", err)
		}
		return nil
	})
	if err := wantPorts(hosts(t, dev, "DEFAULT_GROUP", "ns-billing")); err != nil {
		t.Errorf("dev/DEFAULT_GROUP: %v", err)
	}
	poll.UntilNil(t, "both owned", func() error { return wantOwned(t, c, "billing-1", "billing-2") })
	if err := c.Delete(bounded(t), placed); err != nil {
		t.Fatal(err)
	}
	poll.UntilNil(t, "dev/blue emptied, public kept", func() error {
		if err := wantPorts(hosts(t, dev, "blue", "ns-billing")); err != nil {
			return err
		}
		return wantPorts(hosts(t, public, "DEFAULT_GROUP", "ns-billing"), 18320)
	})
}

func group(u registrysync.Update, key registrysync.ServiceKey) (registrysync.Group, bool) {
	for _, g := range u.Groups {
		if g.Key == key {
			return g, true
		}
	}
	return registrysync.Group{}, false
}

func hasKey(u registrysync.Update, key registrysync.ServiceKey) bool {
	_, ok := group(u, key)
	return ok
}
