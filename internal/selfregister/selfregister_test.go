package selfregister

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

func openStore(t *testing.T) registry.Store {
	t.Helper()
	store, err := embedded.Open(embedded.Options{Dir: t.TempDir(), Expiry: embedded.ExpiryOptions{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func instances(t *testing.T, store registry.Store, service string) []*registry.Instance {
	t.Helper()
	list, _, err := store.List(context.Background(), registry.Filter{Service: service})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// runRegistrar runs r until the returned stop function is called; stop
// waits for the deregistration to finish.
func runRegistrar(t *testing.T, r Registrar) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				t.Error("registrar did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestMeshRegistersRenewsAndDeregisters(t *testing.T) {
	store := openStore(t)
	srv := httptest.NewServer(control.NewServer(store, control.ServerOptions{Logger: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()
	r, err := New("mesh", Registration{
		URL: srv.URL, Service: "orders", ID: "orders-a", Host: "127.0.0.1", Port: 15006,
		Metadata: map[string]string{"version": "v2", "canary": "true"}, Heartbeat: 100 * time.Millisecond,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop := runRegistrar(t, r)
	poll.Until(t, "registration", func() bool { return len(instances(t, store, "orders")) == 1 }, poll.Within(5*time.Second))
	inst := instances(t, store, "orders")[0]
	if inst.ID != "orders-a" || inst.Port != 15006 || inst.Labels["version"] != "v2" || inst.Labels["canary"] != "true" || inst.Lease.Duration != 300*time.Millisecond {
		t.Fatalf("registered %+v", inst)
	}
	first := inst.Lease.LastRenewal
	poll.Until(t, "a renewal", func() bool {
		l := instances(t, store, "orders")
		return len(l) == 1 && l[0].Lease.LastRenewal.After(first)
	}, poll.Within(5*time.Second))
	// The registry forgets the instance (an operator deleted it): the next
	// heartbeat gets "not found" and the app registers again.
	if _, err := store.Deregister(context.Background(), inst.Key()); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "re-registration", func() bool { return len(instances(t, store, "orders")) == 1 }, poll.Within(5*time.Second))
	stop()
	if n := len(instances(t, store, "orders")); n != 0 {
		t.Fatalf("%d instances left after stop", n)
	}
}

func TestNacosUsesTheSDK(t *testing.T) {
	store := openStore(t)
	a, err := nacos.New(store, nacos.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	httpLn, _ := net.Listen("tcp", "127.0.0.1:0")
	grpcLn, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.ServeHTTP(ctx, httpLn) }()
	go func() { defer wg.Done(); a.ServeGRPC(ctx, grpcLn) }()
	defer func() { cancel(); wg.Wait() }()

	r, err := New("nacos", Registration{
		URL: "http://" + httpLn.Addr().String(), NacosGRPCPort: grpcLn.Addr().(*net.TCPAddr).Port,
		Service: "payments", ID: "ignored-by-nacos", Host: "127.0.0.1", Port: 18080,
		Metadata: map[string]string{"version": "v1"}, Heartbeat: 200 * time.Millisecond,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop := runRegistrar(t, r)
	poll.Until(t, "Nacos registration", func() bool { return len(instances(t, store, "payments")) == 1 }, poll.Within(20*time.Second))
	inst := instances(t, store, "payments")[0]
	if inst.Origin != registry.OriginNacos || inst.Host != "127.0.0.1" || inst.Port != 18080 || inst.Labels["version"] != "v1" {
		t.Fatalf("registered %+v", inst)
	}
	stop()
	if n := len(instances(t, store, "payments")); n != 0 {
		t.Fatalf("%d instances left after stop", n)
	}
}
