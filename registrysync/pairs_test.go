package registrysync_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"
	logging "github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/consul"
	"github.com/meshbridge/meshbridge/registrysync/eureka"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// Pairs of a legacy registry and the mesh, both ways, through the engine.
// Real Eureka and Consul servers cannot be fetched here: the legacy side
// is registry-adapter serving that one protocol over its own store
// (adaptertest's harness), which the connectors and the apps reach with
// their real clients (hudl/fargo, hashicorp/consul/api).

func init() { logging.SetLevel(logging.CRITICAL, "fargo") }

// legacyStore is a legacy stand-in's store, expiring leases as the real
// registry does.
func legacyStore(t *testing.T) *embedded.Store {
	return adaptertest.Store(t, func(o *embedded.Options) {
		o.Expiry = embedded.ExpiryOptions{Interval: 100 * time.Millisecond, StartupGrace: time.Millisecond, SelfPreservationThreshold: -1}
	})
}

// pairWithMesh syncs legacy <-> mesh both ways and returns the mesh.
func pairWithMesh(t *testing.T, legacy registrysync.RegistryConfig) (*running, *meshtest.Plane) {
	m := meshtest.Start(t, meshtest.Options{Token: token, ExpiryInterval: 200 * time.Millisecond})
	cfg := config([]registrysync.RegistryConfig{legacy, meshRegistry("mesh", m)},
		registrysync.PairConfig{From: "legacy", To: "mesh", Direction: registrysync.Both})
	return run(t, cfg, registrysync.Options{}), m
}

// awaitMeshCopy waits until the mesh holds a copy of legacy's
// service/id that ok accepts.
func awaitMeshCopy(t *testing.T, m *meshtest.Plane, service, id string, ok func(*registry.Instance) error) {
	t.Helper()
	poll.UntilNil(t, "the copy of "+service+"/"+id+" in the mesh", func() error {
		got, err := m.Client.Instance(meshtest.Ctx(t), registry.NewInstanceKey("", "", service, id))
		if err != nil {
			return err
		}
		if got.Metadata[registrysync.MetaOrigin] != "legacy" {
			return fmt.Errorf("origin %q", got.Metadata[registrysync.MetaOrigin])
		}
		return ok(got)
	}, poll.Within(within))
}

func TestPairEurekaAndMesh(t *testing.T) {
	store := legacyStore(t)
	fe, err := eurekafe.New(store, eurekafe.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := adaptertest.Start(t, store, adaptertest.Frontend{Handler: fe.Handler(), Run: []func(context.Context) error{fe.Run}})
	cfg := eureka.NewConfig()
	cfg.URLs, cfg.PollInterval, cfg.RenewalInterval, cfg.LeaseDuration = []string{srv.URL + "/eureka"}, 100*time.Millisecond, time.Second, 4*time.Second
	s, m := pairWithMesh(t, registrysync.RegistryConfig{Name: "legacy", Type: "eureka", Settings: cfg})

	conn := fargo.NewConn(srv.URL + "/eureka")
	conn.UseJson = true
	orders := &fargo.Instance{
		InstanceId: "orders-1", HostName: "10.0.0.1", IPAddr: "10.0.0.1", App: "ORDERS", VipAddress: "orders",
		Status: fargo.UP, Port: 8080, PortEnabled: true, SecurePort: 8443, SecurePortEnabled: true,
		DataCenterInfo: fargo.DataCenterInfo{Name: fargo.MyOwn},
		LeaseInfo:      fargo.LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 600},
	}
	orders.SetMetadataString("version", "v2")
	if err := conn.ReregisterInstance(orders); err != nil {
		t.Fatal(err)
	}
	register(t, m, app("pay", "pay-1"))

	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.Labels["version"] != "v2" || got.SecurePort != 8443 || got.EffectiveStatus() != registry.StatusUp {
			return fmt.Errorf("copy %+v", got)
		}
		return nil
	})
	poll.UntilNil(t, "the mesh's pay-1 in Eureka", func() error {
		w, err := conn.GetInstance("PAY", "pay-1")
		if err != nil {
			return err
		}
		if origin, _ := w.Metadata.GetString(registrysync.MetaOrigin); origin != "mesh" {
			return fmt.Errorf("origin %q", origin)
		}
		return nil
	}, poll.Within(within))
	// A status change at the source reaches the copy.
	if err := conn.UpdateInstanceStatus(orders, fargo.OUTOFSERVICE); err != nil {
		t.Fatal(err)
	}
	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.EffectiveStatus() != registry.StatusOutOfService || got.Healthy() {
			return fmt.Errorf("status %s", got.EffectiveStatus())
		}
		return nil
	})
	noEchoes(t, s)
}

func TestPairConsulAndMesh(t *testing.T) {
	store := legacyStore(t)
	fe := consulfe.New(store, consulfe.Options{Logger: quiet(), NodeName: "node-1", CheckReapInterval: 200 * time.Millisecond, MinDeregisterAfter: time.Second})
	srv := adaptertest.Start(t, store, adaptertest.Frontend{Handler: fe.Handler(), Run: []func(context.Context) error{fe.Run}})
	addr := strings.TrimPrefix(srv.URL, "http://")
	cfg := consul.NewConfig()
	cfg.Address, cfg.Wait, cfg.Timeout = addr, 2*time.Second, 5*time.Second
	s, m := pairWithMesh(t, registrysync.RegistryConfig{Name: "legacy", Type: "consul", Settings: cfg})

	apiCfg := api.DefaultConfig()
	apiCfg.Address = addr
	client, err := api.NewClient(apiCfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := &api.AgentServiceRegistration{ID: "orders-1", Name: "orders", Address: "10.0.0.1", Port: 8080,
		Meta: map[string]string{"version": "v2"}, Check: &api.AgentServiceCheck{CheckID: "orders-1-ttl", TTL: "1m"}}
	if err := client.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	if err := client.Agent().UpdateTTL("orders-1-ttl", "", api.HealthPassing); err != nil {
		t.Fatal(err)
	}
	register(t, m, app("pay", "pay-1"))

	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.Labels["version"] != "v2" || got.Health != registry.HealthPassing {
			return fmt.Errorf("copy %+v", got)
		}
		return nil
	})
	poll.UntilNil(t, "the mesh's pay-1 among Consul's passing instances", func() error {
		entries, _, err := client.Health().Service("pay", "", true, nil)
		if err != nil {
			return err
		}
		if len(entries) != 1 || entries[0].Service.Meta[registrysync.MetaOrigin] != "mesh" {
			return fmt.Errorf("entries %v", entries)
		}
		return nil
	}, poll.Within(within))
	// A failing check at the source reaches the copy's health.
	if err := client.Agent().UpdateTTL("orders-1-ttl", "", api.HealthCritical); err != nil {
		t.Fatal(err)
	}
	awaitMeshCopy(t, m, "orders", "orders-1", func(got *registry.Instance) error {
		if got.Health != registry.HealthCritical || got.Healthy() {
			return fmt.Errorf("health %s", got.Health)
		}
		return nil
	})
	noEchoes(t, s)
}

// noEchoes fails when a flow reported a record error: a copy sent back
// where it came from is refused by the sinks as a write over an app.
func noEchoes(t *testing.T, s *running) {
	t.Helper()
	for _, f := range s.Status().Pairs {
		if len(f.Errors) > 0 {
			t.Errorf("%s -> %s: %+v", f.From, f.To, f.Errors)
		}
	}
}
