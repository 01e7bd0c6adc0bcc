package etcd

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/etcd/etcdtest"
	"github.com/meshbridge/meshbridge/registry/storetest"
)

// startEtcd runs a real, single-member etcd server in-process for one test.
func startEtcd(t *testing.T) *clientv3.Client { return etcdtest.Start(t) }

var quiet = slog.New(slog.DiscardHandler)

func TestConformance(t *testing.T) {
	cli := startEtcd(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) registry.Store {
		// Each case gets its own prefix: an empty store on a shared server.
		s, err := Open(context.Background(), Options{Client: cli, Prefix: fmt.Sprintf("/t%d/", n.Add(1)), History: 64, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two replicas on one etcd see each other's writes, and a lease held in
// etcd expires the instance with no replica running expiry.
func TestReplicasShareRegistryAndLeasesExpire(t *testing.T) {
	cli := startEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := Open(ctx, Options{Client: cli, Prefix: "/shared/", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, Options{Client: cli, Prefix: "/shared/", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	w, err := b.Watch(ctx, 0, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	in := storetest.Instance("orders", "short-lived")
	in.Lease.Duration = 2 * time.Second
	got, err := a.Register(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-w.Events():
		if e.Type != registry.EventPut || e.Instance.ID != "short-lived" || e.Revision != got.Revision {
			t.Fatalf("replica b saw %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("replica b did not see the registration")
	}
	// Replica b can renew what a registered (the lease lives in etcd).
	if err := b.Renew(ctx, got.Key()); err != nil {
		t.Fatalf("renew through b: %v", err)
	}
	// Without renewals etcd expires the lease and both replicas drop it.
	select {
	case e := <-w.Events():
		if e.Type != registry.EventDelete || e.Instance.ID != "short-lived" {
			t.Fatalf("expected the expiry delete, got %+v", e)
		}
	case <-ctx.Done():
		t.Fatal("lease did not expire")
	}
	poll.Until(t, "replica a to drop the expired instance", func() bool {
		_, err := a.Get(ctx, got.Key())
		return err != nil
	}, poll.Within(5*time.Second))
	if err := a.Renew(ctx, got.Key()); err == nil {
		t.Fatal("renew of an expired instance succeeded")
	}
}

// A store opened later loads what is already in etcd.
func TestOpenLoadsExistingState(t *testing.T) {
	cli := startEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := Open(ctx, Options{Client: cli, Prefix: "/load/", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Register(ctx, storetest.Instance("orders", "o-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutKV(ctx, &registry.KV{Key: "cfg/x", Value: []byte("1")}, -1); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, err := Open(ctx, Options{Client: cli, Prefix: "/load/", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	inst, err := b.Get(ctx, got.Key())
	if err != nil || inst.Revision != got.Revision || inst.Host != "10.0.0.1" {
		t.Fatalf("loaded %+v, %v", inst, err)
	}
	if kv, err := b.GetKV(ctx, "cfg/x"); err != nil || string(kv.Value) != "1" {
		t.Fatalf("loaded kv %+v, %v", kv, err)
	}
	if b.Revision() < got.Revision {
		t.Fatalf("revision %d behind %d", b.Revision(), got.Revision)
	}
}
