package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/loopback"
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

// run runs demoapp as main does, with the test's context and buffers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return app.Run(ctx, command, args, stdout, stderr)
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
func runRegistrar(t *testing.T, r registrar) (stop func()) {
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

func TestControlRegistrarRegistersRenewsAndDeregisters(t *testing.T) {
	store := openStore(t)
	srv := httptest.NewServer(control.NewServer(store, control.ServerOptions{Logger: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()
	r, err := newRegistrar("control", registration{
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

func TestNacosRegistrarUsesTheSDK(t *testing.T) {
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

	r, err := newRegistrar("nacos", registration{
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

func TestRunRejectsBadFlagsNamingThem(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{}, "--service"},
		{[]string{"--service", "a", "--registry", "zookeeper"}, "--registry"},
		{[]string{"--service", "a", "--registry", "nacos"}, "--registry-url"},
		{[]string{"--service", "a", "--error-rate", "2"}, "--error-rate"},
		{[]string{"--service", "a", "--advertise", "nohost"}, "--advertise"},
		{[]string{"--service", "a", "--metadata", "novalue"}, "--metadata"},
		{[]string{"--service", "a", "--egress", "socks5://x"}, "--egress"},
		{[]string{"--service", "a", "extra"}, "unexpected arguments"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), c.args, &out, &errOut); code != app.ExitUsage || !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d naming %s", code, errOut.String(), app.ExitUsage, c.want)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	addr := loopback.Addr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{"--service", "orders", "--listen", addr, "--log-level", "error"}, io.Discard, &errOut)
	}()
	srvURL := fmt.Sprintf("http://%s", addr)
	poll.UntilNil(t, "demoapp answering", poll.GetOK(srvURL+"/"), poll.Within(5*time.Second))
	cancel()
	select {
	case code := <-done:
		if code != app.ExitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demoapp did not stop")
	}
}
