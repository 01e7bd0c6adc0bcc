package mesh

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// The mesh is the real thing here: the control API over the embedded
// store, as registry-adapter serves them, in-process on loopback.

const (
	testLease    = 2 * time.Second
	testRenew    = 400 * time.Millisecond
	expiryPasses = 200 * time.Millisecond
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testConfig(p *meshtest.Plane) *Config {
	cfg := NewConfig()
	cfg.URL, cfg.Token = p.URL, "t0ken"
	cfg.LeaseDuration, cfg.RenewInterval, cfg.WatchWait, cfg.RetryMaxBackoff = testLease, testRenew, 2*time.Second, 200*time.Millisecond
	return cfg
}

func newConnector(t *testing.T, p *meshtest.Plane, env registrysync.Env) *Connector {
	t.Helper()
	env.Logger = quiet()
	cfg := testConfig(p)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := New(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	p := meshtest.Start(t, meshtest.Options{ExpiryInterval: expiryPasses, Token: "t0ken"})
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, env registrysync.Env) registrysync.Connector { return newConnector(t, p, env) },
		Register: func(t *testing.T, inst *registry.Instance) {
			if _, err := p.Client.Register(meshtest.Ctx(t), inst); err != nil {
				t.Fatal(err)
			}
		},
		Deregister: func(t *testing.T, inst *registry.Instance) {
			if err := p.Client.Deregister(meshtest.Ctx(t), registry.NewInstanceKey("", "", inst.Service, inst.ID)); err != nil {
				t.Fatal(err)
			}
		},
		Expiry: testLease + expiryPasses,
	})
}

func TestPutNeverWritesOverAnInstanceItDoesNotOwn(t *testing.T) {
	p := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	app := connectortest.App("orders", "orders-1", 8080)
	if _, err := p.Client.Register(meshtest.Ctx(t), app); err != nil {
		t.Fatal(err)
	}
	c := newConnector(t, p, registrysync.Env{Name: "mesh", Owner: "syncer-a"})
	defer c.Close(context.Background(), false)
	for _, owner := range []string{"", "syncer-b"} {
		cp := connectortest.Copy(app, "legacy", "syncer-a")
		if owner != "" { // another syncer's copy is not ours either
			other := connectortest.Copy(app, "legacy", owner)
			other.ID = "orders-2"
			if _, err := p.Client.Register(meshtest.Ctx(t), other); err != nil {
				t.Fatal(err)
			}
			cp.ID = "orders-2"
		}
		cp.Host = "10.9.9.9"
		if err := c.Put(meshtest.Ctx(t), cp); err == nil || !strings.Contains(err.Error(), "not this syncer's copy") {
			t.Fatalf("put over %q's instance: %v", owner, err)
		}
		got, err := p.Client.Instance(meshtest.Ctx(t), registry.NewInstanceKey("", "", "orders", cp.ID))
		if err != nil || got.Host == "10.9.9.9" {
			t.Fatalf("the instance was written over: %+v, %v", got, err)
		}
	}
}

func TestACopyLostBehindTheSinksBackIsRegisteredAgain(t *testing.T) {
	p := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	c := newConnector(t, p, registrysync.Env{Name: "mesh", Owner: "syncer-a"})
	defer c.Close(context.Background(), false)
	cp := connectortest.Copy(connectortest.App("pay", "pay-1", 8080), "legacy", "syncer-a")
	if err := c.Put(meshtest.Ctx(t), cp); err != nil {
		t.Fatal(err)
	}
	key := registry.NewInstanceKey("", "", "pay", "pay-1")
	if err := p.Client.Deregister(meshtest.Ctx(t), key); err != nil {
		t.Fatal(err)
	}
	poll.UntilNil(t, "the copy back", func() error {
		_, err := p.Client.Instance(meshtest.Ctx(t), key)
		return err
	}, poll.Within(5*time.Second))
}

func TestAdoptedCopiesOutliveTheirLease(t *testing.T) {
	p := meshtest.Start(t, meshtest.Options{ExpiryInterval: expiryPasses, Token: "t0ken"})
	first := newConnector(t, p, registrysync.Env{Name: "mesh", Owner: "syncer-a"})
	cp := connectortest.Copy(connectortest.App("stock", "stock-1", 8080), "legacy", "syncer-a")
	if err := first.Put(meshtest.Ctx(t), cp); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(meshtest.Ctx(t), false); err != nil { // the leader stops; its copies stay
		t.Fatal(err)
	}
	second := newConnector(t, p, registrysync.Env{Name: "mesh", Owner: "syncer-a"})
	defer second.Close(context.Background(), false)
	owned, err := second.Owned(meshtest.Ctx(t))
	if err != nil || len(owned) != 1 {
		t.Fatalf("owned = %v, %v", owned, err)
	}
	rev := owned[0].Revision
	if err := second.Adopt(meshtest.Ctx(t), owned); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * (testLease + expiryPasses)) // the store's own clock: nothing to poll
	got, err := p.Client.Instance(meshtest.Ctx(t), owned[0].Key())
	if err != nil {
		t.Fatalf("the adopted copy expired: %v", err)
	}
	if got.Revision != rev {
		t.Fatalf("adopting wrote the copy again: revision %d, was %d", got.Revision, rev)
	}
}

func TestSourceKeepsToItsNamespaces(t *testing.T) {
	p := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	for _, ns := range []string{"dev", "prod"} {
		inst := connectortest.App("cart", "cart-"+ns, 8080)
		inst.Namespace = ns
		if _, err := p.Client.Register(meshtest.Ctx(t), inst); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(p)
	cfg.Namespaces = []string{"prod"}
	c, err := New(cfg, registrysync.Env{Name: "mesh", Owner: "syncer-a", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := make(chan registrysync.Update, 4)
	go c.Run(ctx, updates)
	select {
	case u := <-updates:
		if !u.Complete || len(u.Groups) != 1 || u.Groups[0].Key.Namespace != "prod" || len(u.Groups[0].Instances) != 1 {
			t.Fatalf("first update %+v; want prod's cart alone, complete", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no listing")
	}
}

func TestConfigValidateNamesFields(t *testing.T) {
	cfg := NewConfig()
	cfg.URL, cfg.LeaseDuration, cfg.Namespaces = "ftp://x", 10*time.Second, []string{"a/b"}
	err := cfg.Validate()
	for _, want := range []string{"url:", "leaseDuration:", "namespaces[0]:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate = %v; want %q", err, want)
		}
	}
	if err := NewConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
