package meshview_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

var _ meshview.Upstream = (*control.Client)(nil)

// startControl runs a real control API over an embedded store.
func startControl(t *testing.T) *control.Client {
	t.Helper()
	cp := startRestartable(t, "127.0.0.1:0")
	c, err := control.NewClient("http://"+cp.addr, control.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// restartable is a control plane on a fixed loopback address that can be
// stopped and started again, over the same store directory or a new one.
type restartable struct {
	t    *testing.T
	addr string
	dir  string
	st   *embedded.Store
	srv  *http.Server
}

// startRestartable starts a control plane at addr ("127.0.0.1:0" for any
// port; it restarts on the port it got).
func startRestartable(t *testing.T, addr string) *restartable {
	t.Helper()
	cp := &restartable{t: t, addr: addr, dir: t.TempDir()}
	cp.start()
	t.Cleanup(cp.stop)
	return cp
}

func (cp *restartable) start() {
	cp.t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: cp.dir, Expiry: embedded.ExpiryOptions{Disabled: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cp.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cp.addr)
	if err != nil {
		cp.t.Fatal(err)
	}
	cp.st, cp.addr = st, ln.Addr().String()
	srv := &http.Server{Handler: control.NewServer(st, control.ServerOptions{Logger: slog.New(slog.DiscardHandler), MaxWait: 2 * time.Second}).Handler(), ReadHeaderTimeout: 5 * time.Second}
	cp.srv = srv
	// The goroutine gets its own reference: stop clears cp.srv, maybe
	// before the goroutine first runs.
	go func() { _ = srv.Serve(ln) }()
}

func (cp *restartable) stop() {
	if cp.srv != nil {
		_ = cp.srv.Close() // ends the view's long-poll too
		_ = cp.st.Close()
		cp.srv = nil
	}
}

// serviceEcho answers with the service its listener is bound to.
func serviceEcho(service string) meshview.Server {
	return &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, service)
	})}
}

func setup(t *testing.T) (*meshview.View, *meshview.Allocator, *control.Client, chan registry.InstanceKey) {
	t.Helper()
	c := startControl(t)
	first := loopback.Port(t, 50)
	alloc := meshview.NewAllocator("127.0.0.1", first, first+50, serviceEcho, slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		alloc.Shutdown(ctx)
	})
	registered := make(chan registry.InstanceKey, 4)
	v := meshview.New(meshview.Options{Upstream: c, Allocator: alloc, IngressHost: "10.1.2.3", IngressPort: 15006, Logger: slog.New(slog.DiscardHandler),
		OnRegister: func(k registry.InstanceKey) { registered <- k }})
	t.Cleanup(func() { _ = v.Close() })
	return v, alloc, c, registered
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// The app's registration reaches the control plane rewritten to the
// sidecar's ingress; the app itself sees it at its service's loopback endpoint.
func TestRegisterRewritesToIngress(t *testing.T) {
	v, alloc, c, registered := setup(t)
	app := &registry.Instance{ID: "orders-1", Service: "ORDERS", Host: "192.168.0.7", Port: 8080, SecurePort: 8443, SecureEnabled: true,
		Metadata: map[string]string{"version": "v2"}, Ephemeral: true, Lease: registry.Lease{Duration: 90 * time.Second}}
	got, err := v.Register(ctx(t), app)
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != "192.168.0.7" || got.Port != 8080 {
		t.Errorf("Register returned %s, want the app's own address back", got.Address())
	}
	if k := <-registered; k != got.Key() {
		t.Errorf("OnRegister got %v", k)
	}
	up, err := c.Instance(ctx(t), got.Key())
	if err != nil {
		t.Fatal(err)
	}
	if up.Host != "10.1.2.3" || up.Port != 15006 || up.SecureEnabled || up.Metadata[meshview.MetaAppHost] != "192.168.0.7" ||
		up.Metadata[meshview.MetaAppPort] != "8080" || up.Labels["version"] != "v2" {
		t.Errorf("control plane holds %+v; want the ingress address, the app's address in metadata, labels kept", up)
	}
	list, _, err := v.List(ctx(t), registry.Filter{Service: "orders"})
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	if port := alloc.Ports()["orders"]; list[0].Host != "127.0.0.1" || list[0].Port != port {
		t.Errorf("app sees itself at %s, want its service's loopback 127.0.0.1:%d", list[0].Address(), port)
	}
	// Renew and status go upstream; an unknown instance's renew says not found.
	if err := v.Renew(ctx(t), got.Key()); err != nil {
		t.Errorf("renew: %v", err)
	}
	if err := v.Renew(ctx(t), registry.NewInstanceKey("", "", "orders", "ghost")); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("renew of unknown: %v, want ErrNotFound", err)
	}
	if _, err := v.SetStatusOverride(ctx(t), got.Key(), registry.StatusOutOfService); err != nil {
		t.Fatal(err)
	}
	if up, _ := c.Instance(ctx(t), got.Key()); up.EffectiveStatus() != registry.StatusOutOfService {
		t.Errorf("override not forwarded: %s", up.EffectiveStatus())
	}
	if _, err := v.Deregister(ctx(t), got.Key()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Instance(ctx(t), got.Key()); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("after deregister: %v", err)
	}
	if list, _, _ := v.List(ctx(t), registry.Filter{Service: "orders"}); len(list) != 0 {
		t.Errorf("deregistered instance still listed: %v", list)
	}
}

func inst(id, service string, up bool) *registry.Instance {
	i := &registry.Instance{ID: id, Service: service, Host: "10.0.0.1", Port: 8080}
	if !up {
		i.Status = registry.StatusDown
	}
	i.Normalize()
	return i
}

// Every service is answered with one instance at a loopback port unique to
// it; connecting there reaches that service whatever the Host header says.
// Watches see services come, change and go.
func TestDiscoveryAnswersLoopbackPerService(t *testing.T) {
	v, alloc, _, _ := setup(t)
	w, err := v.Watch(ctx(t), 0, registry.WatchFilter{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	v.Follow(table.Build(1, []*registry.Instance{inst("o1", "orders", true), inst("p1", "payments", false)}, nil, table.Options{}))

	orders, _, _ := v.List(ctx(t), registry.Filter{Service: "orders"})
	payments, _, _ := v.List(ctx(t), registry.Filter{Service: "payments"})
	if len(orders) != 1 || len(payments) != 1 {
		t.Fatalf("orders %v payments %v; want one loopback instance each", orders, payments)
	}
	if orders[0].Port == payments[0].Port || orders[0].Host != "127.0.0.1" {
		t.Errorf("orders at %s, payments at %s; want distinct loopback ports", orders[0].Address(), payments[0].Address())
	}
	if orders[0].Status != registry.StatusUp || payments[0].Status != registry.StatusDown {
		t.Errorf("statuses %s/%s; want UP for a service with a healthy instance, DOWN otherwise", orders[0].Status, payments[0].Status)
	}
	for _, tc := range []struct{ inst *registry.Instance }{{orders[0]}, {payments[0]}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+tc.inst.Address()+"/", nil)
		req.Host = "somewhere-else" // the client rewrote the Host header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.inst.ServiceKey {
			t.Errorf("port %d answered for %q, want %q", tc.inst.Port, b, tc.inst.ServiceKey)
		}
	}
	for range 2 {
		select {
		case e := <-w.Events():
			if e.Type != registry.EventPut || e.Instance.Metadata[meshview.MetaLoopback] != "true" {
				t.Errorf("event %+v", e)
			}
		case <-ctx(t).Done():
			t.Fatal("no watch event")
		}
	}
	// payments turns healthy, orders disappears.
	v.Follow(table.Build(2, []*registry.Instance{inst("p1", "payments", true)}, nil, table.Options{}))
	seen := map[string]registry.EventType{}
	for range 2 {
		select {
		case e := <-w.Events():
			seen[e.Instance.ServiceKey+"/"+string(e.Instance.Status)] = e.Type
		case <-ctx(t).Done():
			t.Fatalf("watch events: %v", seen)
		}
	}
	if seen["payments/UP"] != registry.EventPut || seen["orders/UP"] != registry.EventDelete {
		t.Errorf("events %v; want payments PUT UP and orders DELETE", seen)
	}
	// A service keeps its port when it comes back.
	port := alloc.Ports()["orders"]
	v.Follow(table.Build(3, []*registry.Instance{inst("o1", "orders", true)}, nil, table.Options{}))
	if again, _, _ := v.List(ctx(t), registry.Filter{Service: "orders"}); len(again) != 1 || again[0].Port != port {
		t.Errorf("orders came back at %v, want port %d", again, port)
	}
}

// When the range is used up, extra services are left out, not failed.
func TestAllocatorExhausted(t *testing.T) {
	first := loopback.Port(t, 50)
	alloc := meshview.NewAllocator("127.0.0.1", first, first, serviceEcho, slog.New(slog.DiscardHandler))
	defer alloc.Shutdown(context.Background())
	if _, _, err := alloc.Endpoint("a"); err != nil {
		t.Fatal(err)
	}
	if _, p, err := alloc.Endpoint("a"); err != nil || p != first {
		t.Errorf("same service again: %d, %v", p, err)
	}
	if _, _, err := alloc.Endpoint("b"); !errors.Is(err, meshview.ErrExhausted) {
		t.Errorf("second service: %v, want ErrExhausted", err)
	}
}

// Writes an app has no business making through its sidecar (rules and
// other resources) are not offered: the view has no resource methods, so no
// front-end mounted over it can reach one, even by looking for them.
func TestUnsupportedWrites(t *testing.T) {
	v, _, _, _ := setup(t)
	var served any = v
	if _, ok := served.(registry.Resources); ok {
		t.Error("the mesh view offers resource reads and writes")
	}
}
