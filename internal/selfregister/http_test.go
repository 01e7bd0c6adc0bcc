package selfregister

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

// runner is the part of the Eureka and Consul front-ends a test needs.
type frontEnd interface {
	Run(ctx context.Context) error
	Handler() http.Handler
}

func serveFrontEnd(t *testing.T, fe frontEnd) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fe.Run(ctx) }()
	srv := httptest.NewServer(fe.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("front-end did not stop")
		}
	})
	return srv.URL
}

// TestEurekaAndConsulUseRealClients registers through fargo against the
// Eureka front-end and through consul/api against the Consul front-end,
// then stops and expects the instance gone.
func TestEurekaAndConsulUseRealClients(t *testing.T) {
	cases := []struct {
		kind   string
		server func(registry.Store) (frontEnd, error)
		path   string
		origin string
	}{
		{"eureka", func(s registry.Store) (frontEnd, error) {
			return eureka.New(s, eureka.Options{Logger: slog.New(slog.DiscardHandler)})
		}, "/eureka", registry.OriginEureka},
		{"consul", func(s registry.Store) (frontEnd, error) {
			return consul.New(s, consul.Options{NodeName: "node-1", Logger: slog.New(slog.DiscardHandler)}), nil
		}, "", registry.OriginConsul},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			store := openStore(t)
			fe, err := c.server(store)
			if err != nil {
				t.Fatal(err)
			}
			base := serveFrontEnd(t, fe)
			r, err := New(c.kind, Registration{
				URL: base + c.path, Service: "orders", ID: "orders-v2-0", Host: "127.0.0.1", Port: 15006,
				Metadata: map[string]string{"version": "v2", "canary": "true"}, Heartbeat: 200 * time.Millisecond,
			}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			stop := runRegistrar(t, r)
			poll.Until(t, c.kind+" registration", func() bool {
				l := instances(t, store, "orders")
				return len(l) == 1 && l[0].Healthy()
			})
			inst := instances(t, store, "orders")[0]
			if inst.Origin != c.origin || inst.Host != "127.0.0.1" || inst.Port != 15006 || inst.Labels["version"] != "v2" || inst.Labels["canary"] != "true" {
				t.Fatalf("registered %+v", inst)
			}
			// Heartbeats keep it healthy past a few lease periods.
			deadline := time.Now().Add(1500 * time.Millisecond)
			for time.Now().Before(deadline) {
				if l := instances(t, store, "orders"); len(l) != 1 || !l[0].Healthy() {
					t.Fatalf("instance lost or unhealthy while heartbeating: %+v", l)
				}
				time.Sleep(100 * time.Millisecond)
			}
			stop()
			if n := len(instances(t, store, "orders")); n != 0 {
				t.Fatalf("%d instances left after stop", n)
			}
		})
	}
}
