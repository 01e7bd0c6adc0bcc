package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/selfregister"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync/zookeeper"
)

// TestZooKeeperRegisterAndLookup registers two instances as Spring Cloud
// Zookeeper does (ephemeral nodes under /services/payments) with the
// registrar demoapp uses, against a real ZooKeeper, and follows them with
// the watching lookup: both are picked; one marked OUT_OF_SERVICE the way
// Spring's service-registry endpoint does it is dropped; an instance
// that stops (its session closed) is gone.
func TestZooKeeperRegisterAndLookup(t *testing.T) {
	srv := zookeepertest.Start(t)
	quiet := slog.New(slog.DiscardHandler)
	stops := make([]context.CancelFunc, 2)
	for i := range 2 {
		reg, err := selfregister.New("zookeeper", selfregister.Registration{URL: srv.Addr, Service: "payments",
			ID: "payments-" + strconv.Itoa(i), Host: "127.0.0.1", Port: 9000 + i, Metadata: map[string]string{"version": "v1"},
			Heartbeat: 100 * time.Millisecond}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { reg.Run(ctx); close(done) }()
		stops[i] = func() { cancel(); <-done }
		t.Cleanup(stops[i])
	}
	l, err := newZooKeeperLookup(srv.Addr, time.Minute, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	picks := func(want map[string]int) func() error {
		return func() error {
			got := map[string]int{}
			for range 10 {
				if addr, err := l.Pick("Payments"); err == nil {
					got[addr]++
				}
			}
			if !maps.Equal(got, want) {
				return fmt.Errorf("picks %v, want %v", got, want)
			}
			return nil
		}
	}
	poll.UntilNil(t, "both instances picked", picks(map[string]int{"127.0.0.1:9000": 5, "127.0.0.1:9001": 5}))

	admin := srv.Connect(t, 4*time.Second)
	data, stat, err := admin.Get("/services/payments/payments-1")
	if err != nil {
		t.Fatal(err)
	}
	if stat.EphemeralOwner == 0 {
		t.Fatal("the registration is not an ephemeral node")
	}
	if in, err := zookeeper.DecodeInstance("payments", "payments-1", data); err != nil || in.Address() != "127.0.0.1:9001" || in.Metadata["version"] != "v1" {
		t.Fatalf("the record reads as %+v, %v", in, err)
	}
	if err := zookeeper.SetStatus(admin, selfregister.ZooKeeperRoot, "payments", "payments-1", registry.StatusOutOfService); err != nil {
		t.Fatal(err)
	}
	poll.UntilNil(t, "the OUT_OF_SERVICE instance dropped", picks(map[string]int{"127.0.0.1:9000": 10}))

	stops[0]()
	if ok, _, err := admin.Exists("/services/payments/payments-0"); err != nil || ok {
		t.Fatalf("payments-0's node after it stopped: exists=%v, %v", ok, err)
	}
	poll.UntilNil(t, "no selectable instance left", picks(map[string]int{}))
	if err := zookeeper.SetStatus(admin, selfregister.ZooKeeperRoot, "payments", "payments-1", registry.StatusUp); err != nil {
		t.Fatal(err)
	}
	poll.UntilNil(t, "payments-1 back UP", picks(map[string]int{"127.0.0.1:9001": 10}))
}
