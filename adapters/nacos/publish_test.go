package nacos_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// heldStore holds every registration of one service until released.
type heldStore struct {
	*embedded.Store
	service string
	release chan struct{}
}

func (s *heldStore) Register(ctx context.Context, inst *registry.Instance) (*registry.Instance, error) {
	if inst.Service == s.service {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Store.Register(ctx, inst)
}

// TestBatchesOfOtherServicesDoNotWait: a connection's batch registration
// of one service does not wait for its batch of another that the store
// is slow to take (a syncer carries a thousand services on one
// connection). Before, the connection's lock was held across the store's
// writes and the second batch waited for the first.
func TestBatchesOfOtherServicesDoNotWait(t *testing.T) {
	var held *heldStore
	e := startEnvOver(t, testOptions(), func(s *embedded.Store) registry.Discovery {
		held = &heldStore{Store: s, service: "slow", release: make(chan struct{})}
		return held
	})
	client := e.namingClient(t)
	batch := func(service string) vo.BatchRegisterInstanceParam {
		return vo.BatchRegisterInstanceParam{ServiceName: service, Instances: []vo.RegisterInstanceParam{
			{Ip: "10.0.0.1", Port: 8080, Weight: 1, Enable: true, Healthy: true, Ephemeral: true},
			{Ip: "10.0.0.2", Port: 8080, Weight: 1, Enable: true, Healthy: true, Ephemeral: true},
		}}
	}
	slow := make(chan error, 1)
	go func() {
		_, err := client.BatchRegisterInstance(batch("slow"))
		slow <- err
	}()
	// The slow batch reaches the store first: its service's instances
	// are waiting there.
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	ok, err := client.BatchRegisterInstance(batch("fast"))
	if err != nil || !ok {
		t.Fatalf("batch of fast while slow's is held: ok=%v err=%v", ok, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("batch of fast took %v while slow's was held", took)
	}
	if n := len(listService(t, e.store, "fast")); n != 2 {
		t.Errorf("fast has %d instances, want 2", n)
	}
	close(held.release)
	if err := <-slow; err != nil {
		t.Fatalf("batch of slow: %v", err)
	}
	if n := len(listService(t, e.store, "slow")); n != 2 {
		t.Errorf("slow has %d instances after release, want 2", n)
	}
}

// TestBatchWritesOnlyWhatChanged: a batch names every instance of the
// service again; the store writes (and the subscribers are pushed) only
// the instances that differ from what the connection registered. Before,
// a change of one instance of ten was ten durable writes.
func TestBatchWritesOnlyWhatChanged(t *testing.T) {
	e := startEnv(t, testOptions())
	client := e.namingClient(t)
	batch := func(version string) vo.BatchRegisterInstanceParam {
		var insts []vo.RegisterInstanceParam
		for i := range 10 {
			md := map[string]string{"version": "v1"}
			if i == 0 {
				md["version"] = version
			}
			insts = append(insts, vo.RegisterInstanceParam{Ip: fmt.Sprintf("10.0.0.%d", i+1), Port: 8080, Weight: 1,
				Enable: true, Healthy: true, Ephemeral: true, Metadata: md})
		}
		return vo.BatchRegisterInstanceParam{ServiceName: "orders", Instances: insts}
	}
	register := func(version string) {
		t.Helper()
		if ok, err := client.BatchRegisterInstance(batch(version)); err != nil || !ok {
			t.Fatalf("batch with %s: ok=%v err=%v", version, ok, err)
		}
	}
	register("v1")
	before := e.store.Revision()
	register("v2")
	if writes := e.store.Revision() - before; writes != 1 {
		t.Errorf("a batch changing one instance of ten made %d store writes, want 1", writes)
	}
	versions := map[string]int{}
	for _, inst := range listService(t, e.store, "orders") {
		versions[inst.Metadata["version"]]++
	}
	if versions["v1"] != 9 || versions["v2"] != 1 {
		t.Errorf("versions after the change: %v, want 9 v1 and 1 v2", versions)
	}
	before = e.store.Revision()
	register("v2")
	if writes := e.store.Revision() - before; writes != 0 {
		t.Errorf("the same batch again made %d store writes, want 0", writes)
	}
}
