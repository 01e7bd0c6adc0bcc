package zookeeper

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// TestScale measures the connector at the size, 10,000 instances
// in 1,000 services: writing the copies, Owned, a complete listing, a burst of
// 1,000 changes through the source (from each Put's return to the update
// that carries it), and every copy back after an expiry. It takes a
// minute of a shared machine, so it runs only with
// MESHBRIDGE_ZOOKEEPER_SCALE=1; the figures go to the test log (-v).
func TestScale(t *testing.T) {
	if os.Getenv("MESHBRIDGE_ZOOKEEPER_SCALE") == "" {
		t.Skip("MESHBRIDGE_ZOOKEEPER_SCALE=1 runs it")
	}
	const services, perService, burst = 1000, 10, 1000
	srv := zookeepertest.Start(t)
	var sessions zookeepertest.Sessions
	sink := newTestConnector(t, srv, "syncer-a", func(cfg *Config) { cfg.SessionTimeout = 10 * time.Second })
	sink.dialer = sessions.Dial
	var copies []*registry.Instance
	for s := range services {
		for i := range perService {
			copies = append(copies, copyOf(fmt.Sprintf("scale-%04d", s), fmt.Sprintf("scale-%04d-%d", s, i), "syncer-a", 10000+i))
		}
	}
	start := time.Now()
	putAll(t, sink, copies)
	t.Logf("put %d copies: %v", len(copies), time.Since(start))

	start = time.Now()
	if got := owned(t, sink); len(got) != len(copies) {
		t.Fatalf("owned %d copies, want %d", len(got), len(copies))
	}
	t.Logf("owned, %d copies: %v", len(copies), time.Since(start))

	source := newTestConnector(t, srv, "syncer-b")
	start = time.Now()
	updates := connectortest.Follow(t, source)
	await(t, updates, "the complete listing of every copy", func(u registrysync.Update) bool {
		n := 0
		for _, g := range u.Groups {
			n += len(g.Instances)
		}
		return u.Complete && n == len(copies)
	})
	t.Logf("first complete listing of %d instances: %v", len(copies), time.Since(start))

	// The burst: one copy in each of 1,000 services changes; each change's
	// latency runs from its Put's return to the update carrying it.
	changed := make([]*registry.Instance, burst)
	putDone := make([]time.Time, burst)
	for i := range burst {
		changed[i] = copies[i*perService].Clone()
		changed[i].Metadata["version"] = "v2"
	}
	seen := make(map[string]time.Time, burst)
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.After(2 * time.Minute)
		for len(seen) < burst {
			select {
			case u := <-updates:
				now := time.Now()
				for _, g := range u.Groups {
					for _, in := range g.Instances {
						if _, ok := seen[in.ID]; !ok && in.Metadata["version"] == "v2" {
							seen[in.ID] = now
						}
					}
				}
			case <-deadline:
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	failed := make(chan error, burst)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < burst; i += 16 {
				if err := sink.Put(ctx, changed[i]); err != nil {
					failed <- err
					return
				}
				putDone[i] = time.Now()
			}
		}()
	}
	wg.Wait()
	close(failed)
	for err := range failed {
		t.Fatal(err)
	}
	<-done
	if len(seen) < burst {
		t.Fatalf("the source reported %d of the %d changes", len(seen), burst)
	}
	lat := make([]time.Duration, burst)
	for i, in := range changed {
		lat[i] = max(0, seen[in.ID].Sub(putDone[i]))
	}
	slices.Sort(lat)
	t.Logf("burst of %d changes through the source: p50 %v, p99 %v, max %v", burst, lat[burst/2], lat[burst*99/100], lat[burst-1])

	observer := srv.Connect(t, 30*time.Second)
	start = time.Now()
	old := srv.ExpireLast(t, &sessions)
	poll.UntilNil(t, "every copy back after the expiry", func() error {
		current := sink.sinkSession()
		if current == old.ID || current == 0 {
			return fmt.Errorf("session 0x%x", current)
		}
		for s := range services {
			ids, _, err := observer.Children(fmt.Sprintf("%s/scale-%04d", sink.cfg.Root, s))
			if err != nil || len(ids) != perService {
				return fmt.Errorf("scale-%04d: %d copies, %v", s, len(ids), err)
			}
		}
		return nil
	}, poll.Within(sink.cfg.SessionTimeout+2*time.Second))
	t.Logf("all %d copies back after an expiry: %v (bound: the session timeout %v plus 2s)", len(copies), time.Since(start), sink.cfg.SessionTimeout)
}

// putAll puts the copies 32 at a time.
func putAll(t *testing.T, sink *Connector, copies []*registry.Instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	errs := make(chan error, len(copies))
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(copies); i += 32 {
				if err := sink.Put(ctx, copies[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
