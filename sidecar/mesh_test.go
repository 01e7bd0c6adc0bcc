package sidecar_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/sidecar/config"
)

// controlPlane is a real control API server over an embedded store.
type controlPlane struct {
	url    string
	client *control.Client
}

func startControl(t *testing.T) *controlPlane {
	t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: t.TempDir(), Expiry: embedded.ExpiryOptions{Disabled: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	srv := &http.Server{Handler: control.NewServer(st, control.ServerOptions{Logger: slog.New(slog.DiscardHandler), MaxWait: 2 * time.Second}).Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = st.Close()
	})
	url := "http://" + ln.Addr().String()
	c, err := control.NewClient(url, control.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return &controlPlane{url: url, client: c}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// appSidecar starts a sidecar for an app that registers itself through the
// control plane with its ingress address and the given metadata.
func appSidecar(t *testing.T, cp *controlPlane, service string, app *echo, md map[string]string, mutate func(*config.Config)) *harness {
	t.Helper()
	_, port, _ := splitHostPort(app.addr)
	cfg := testConfig(t, func(c *config.Config) {
		c.Service.Name = service
		c.Service.ID = app.id
		c.Service.Ports = []config.Port{{Name: "rest", Port: port, Protocol: "http"}}
		c.Service.Register = true
		c.Service.Metadata = md
		c.Control.Address = cp.url
		c.Control.WatchWait = time.Second
		if mutate != nil {
			mutate(c)
		}
	})
	return startSidecar(t, cfg, cp.client)
}

func callerSidecar(t *testing.T, cp *controlPlane) *harness {
	t.Helper()
	cfg := testConfig(t, func(c *config.Config) {
		c.Control.Address = cp.url
		c.Control.WatchWait = time.Second
	})
	return startSidecar(t, cfg, cp.client)
}

// waitInstances waits until the caller's table has n healthy instances of service.
func waitInstances(t *testing.T, h *harness, service string, n int) {
	t.Helper()
	poll.Until(t, "the healthy instances in the table", func() bool {
		s := h.sc.Tables().Load().Service(service)
		if s == nil {
			return false
		}
		healthy := 0
		for _, e := range s.Endpoints {
			if e.Healthy {
				healthy++
			}
		}
		return healthy == n
	})
}

func waitRevision(t *testing.T, h *harness, cp *controlPlane) {
	t.Helper()
	_, rev, err := cp.client.Resources(testCtx(t, 5*time.Second), "")
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the table at the control plane's revision", func() bool { return h.sc.Tables().Load().Revision >= rev })
}

func apply(t *testing.T, cp *controlPlane, kind, name string, spec any) error {
	t.Helper()
	_, err := cp.client.Apply(testCtx(t, 5*time.Second), resource(t, kind, name, spec))
	return err
}

// Caller sidecar -> callee sidecars -> apps, with rules applied through the
// control API: routing follows the rules, the sixth canary is refused, and
// rule changes under load fail no request.
func TestMeshWithControlPlane(t *testing.T) {
	cp := startControl(t)
	v1, v2 := startEcho(t, "orders-v1"), startEcho(t, "orders-v2")
	appSidecar(t, cp, "orders", v1, map[string]string{"version": "v1"}, nil)
	appSidecar(t, cp, "orders", v2, map[string]string{"version": "v2"}, nil)
	caller := callerSidecar(t, cp)
	waitInstances(t, caller, "orders", 2)
	poll.Until(t, "the caller ready", func() bool { return caller.sc.Ready() == nil })

	// Both instances are reached through their sidecars' ingress.
	for _, e := range caller.sc.Tables().Load().Service("orders").Endpoints {
		if _, port, _ := splitHostPort(e.Address); strconv.Itoa(port) == strings.TrimPrefix(v1.addr, "127.0.0.1:") || strconv.Itoa(port) == strings.TrimPrefix(v2.addr, "127.0.0.1:") {
			t.Fatalf("instance %s registered with the app's own address %s, not the sidecar's ingress", e.ID, e.Address)
		}
	}
	if got := caller.count(t, "orders", 40, nil); got["orders-v1"]+got["orders-v2"] != 40 || got["orders-v1"] == 0 || got["orders-v2"] == 0 {
		t.Fatalf("before rules: %v", got)
	}

	sel := map[string]string{"version": "v2"}
	m := control.HeaderMatch{Name: "X-Canary", Exact: "true"}
	if err := apply(t, cp, control.KindCanaryRule, "c1", canary("orders", 1, sel, "", m)); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, caller, cp)
	if got := caller.count(t, "orders", 60, map[string]string{"X-Canary": "true"}); got["orders-v2"] != 60 {
		t.Errorf("colored: %v", got)
	}
	if got := caller.count(t, "orders", 60, nil); got["orders-v1"] != 60 {
		t.Errorf("uncolored: %v", got)
	}

	// The control API refuses a sixth canary for the service.
	for i := 2; i <= 5; i++ {
		if err := apply(t, cp, control.KindCanaryRule, "c"+strconv.Itoa(i), canary("orders", 1, sel, "", control.HeaderMatch{Name: "X-C" + strconv.Itoa(i), Present: true})); err != nil {
			t.Fatalf("canary %d: %v", i, err)
		}
	}
	err := apply(t, cp, control.KindCanaryRule, "c6", canary("orders", 1, sel, "", m))
	if !errors.Is(err, registry.ErrConflict) && !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("sixth canary: err = %v, want refused", err)
	}
	waitRevision(t, caller, cp)
	if n := len(caller.sc.Tables().Load().Service("orders").Canaries); n != 5 {
		t.Errorf("caller has %d canaries, want 5", n)
	}

	// Hot swap under load: flip a split between v1 and v2 while traffic runs.
	for i := 2; i <= 5; i++ {
		if err := cp.client.Delete(testCtx(t, 5*time.Second), control.KindCanaryRule, "c"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cp.client.Delete(testCtx(t, 5*time.Second), control.KindCanaryRule, "c1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var total, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				resp, _, err := caller.do("orders", "/", nil)
				total.Add(1)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	flips := 0
	for ctx.Err() == nil {
		want := "v1"
		if flips%2 == 1 {
			want = "v2"
		}
		split := &control.TrafficSplit{Service: "orders", Subsets: []control.Subset{{Labels: map[string]string{"version": want}, Weight: 100}}}
		if err := apply(t, cp, control.KindTrafficSplit, "flip", split); err != nil {
			t.Fatal(err)
		}
		flips++
		time.Sleep(50 * time.Millisecond)
	}
	wg.Wait()
	if failed.Load() != 0 || total.Load() < 20 {
		t.Errorf("%d of %d requests failed across %d rule changes", failed.Load(), total.Load(), flips)
	}
}

// The app health check marks the instance DOWN in the registry and UP again.
func TestHealthCheckSetsStatus(t *testing.T) {
	cp := startControl(t)
	var healthy atomic.Bool
	healthy.Store(true)
	app := startEcho(t, "orders-1")
	app.setHandle(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	h := appSidecar(t, cp, "orders", app, nil, func(c *config.Config) {
		c.HealthCheck = config.HealthCheck{Kind: "http", Path: "/health", Interval: 50 * time.Millisecond, Timeout: 50 * time.Millisecond, UnhealthyThreshold: 2, HealthyThreshold: 1}
	})
	_ = h
	key := registry.NewInstanceKey("", "", "orders", "orders-1")
	status := func() registry.Status {
		inst, err := cp.client.Instance(testCtx(t, 5*time.Second), key)
		if err != nil {
			return ""
		}
		return inst.EffectiveStatus()
	}
	poll.Until(t, "the instance up", func() bool { return status() == registry.StatusUp })
	healthy.Store(false)
	poll.Until(t, "the instance down after its app failed its check", func() bool { return status() == registry.StatusDown })
	healthy.Store(true)
	poll.Until(t, "the instance up again", func() bool { return status() == registry.StatusUp })
}

// On drain the sidecar deregisters its app first.
func TestDrainDeregisters(t *testing.T) {
	cp := startControl(t)
	app := startEcho(t, "orders-1")
	_, port, _ := splitHostPort(app.addr)
	cfg := testConfig(t, func(c *config.Config) {
		c.Service.Name, c.Service.ID = "orders", "orders-1"
		c.Service.Ports = []config.Port{{Name: "rest", Port: port, Protocol: "http"}}
		c.Service.Register = true
		c.Control.Address = cp.url
	})
	eg, in, ad := listen(t), listen(t), listen(t)
	sc, err := newSidecar(cfg, cp.client, eg, in, ad)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	key := registry.NewInstanceKey("", "", "orders", "orders-1")
	poll.Until(t, "orders-1 registered", func() bool {
		_, err := cp.client.Instance(testCtx(t, 5*time.Second), key)
		return err == nil
	})
	cancel()
	waitStopped(t, done)
	if _, err := cp.client.Instance(testCtx(t, 5*time.Second), key); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("after drain: %v; want the instance gone", err)
	}
	if _, err := net.DialTimeout("tcp", in.Addr().String(), time.Second); err == nil {
		t.Error("ingress still accepts connections after drain")
	}
}
