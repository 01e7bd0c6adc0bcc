package consul

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// Bursts of changes, one instance of each of 200 services at once (the
// propagation benchmark's burst, smaller): the source sends every
// service's last version. At 10,000 instances some services' changes
// never reached the syncer.
func TestSourceSendsEveryChangeOfABurst(t *testing.T) {
	const services = 200
	s := startStand(t, consulfe.Options{})
	for i := range services {
		s.register(t, connectortest.App(fmt.Sprintf("svc-%04d", i), fmt.Sprintf("svc-%04d-1", i), 9000))
	}
	// Queries wait as long as by default: a missed wake-up is not hidden
	// by the end of a short wait.
	c := s.connector(t, registrysync.Env{Name: "legacy", Owner: "syncer-a"}, func(c *Config) { c.Wait = 5 * time.Minute })
	updates := follow(t, c)
	await(t, updates, "the first listing", func(u registrysync.Update) bool { return u.Complete })

	var mu sync.Mutex
	version := map[string]string{} // service -> version the source last sent
	go func() {
		for u := range updates {
			mu.Lock()
			for _, g := range u.Groups {
				for _, inst := range g.Instances {
					version[g.Key.Service] = inst.Metadata["version"]
				}
			}
			mu.Unlock()
		}
	}()
	s.mu.Lock()
	store := s.server.Store
	s.mu.Unlock()
	for burst := range 5 {
		want := fmt.Sprintf("b%d", burst)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < services; i += 8 {
					key := registry.NewInstanceKey("", "", fmt.Sprintf("svc-%04d", i), fmt.Sprintf("svc-%04d-1", i))
					if _, err := store.Update(context.Background(), key, func(in *registry.Instance) error {
						in.SetMetadata("version", want)
						return nil
					}); err != nil {
						t.Errorf("update %s: %v", key, err)
					}
				}
			})
		}
		wg.Wait()
		poll.UntilNil(t, "every change of burst "+want+" sent", func() error {
			mu.Lock()
			defer mu.Unlock()
			var behind []string
			for i := range services {
				if name := fmt.Sprintf("svc-%04d", i); version[name] != want {
					behind = append(behind, name+"="+version[name])
				}
			}
			if len(behind) > 0 {
				return fmt.Errorf("%d services behind: %v", len(behind), behind)
			}
			return nil
		}, poll.Within(within))
	}
}
