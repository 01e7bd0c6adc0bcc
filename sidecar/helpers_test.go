package sidecar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar"
	"github.com/meshbridge/meshbridge/sidecar/config"
)

// echo is an upstream instance that answers with its ID and counts hits.
type echo struct {
	id     string
	addr   string
	hits   atomic.Int64
	shadow atomic.Int64 // hits carrying X-Mesh-Shadow: true
	srv    *http.Server
	// handle, when set (setHandle), replaces the default answer.
	handle atomic.Pointer[http.HandlerFunc]
}

// setHandle replaces the echo's answer; safe while it serves.
func (e *echo) setHandle(f http.HandlerFunc) { e.handle.Store(&f) }

func startEcho(t testing.TB, id string) *echo {
	t.Helper()
	e := &echo{id: id}
	ln := listen(t)
	e.addr = ln.Addr().String()
	e.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		if r.Header.Get("X-Mesh-Shadow") == "true" {
			e.shadow.Add(1)
		}
		w.Header().Set("X-Instance", e.id)
		if h := e.handle.Load(); h != nil {
			(*h)(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, e.id)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	t.Cleanup(func() { _ = e.srv.Close() })
	return e
}

// instance describes e as a registry instance of service with labels.
func (e *echo) instance(service string, labels map[string]string) *registry.Instance {
	host, port, _ := net.SplitHostPort(e.addr)
	p, _ := strconv.Atoi(port)
	inst := &registry.Instance{ID: e.id, Service: service, Host: host, Port: p, Metadata: map[string]string{}}
	for k, v := range labels {
		inst.Metadata["label."+k] = v
	}
	inst.Normalize()
	return inst
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func resource(t testing.TB, kind, name string, spec any) *registry.Resource {
	t.Helper()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	return &registry.Resource{Kind: kind, Name: name, Spec: b, Created: time.Now()}
}

// harness is a running sidecar fed by the test instead of a control plane.
type harness struct {
	sc      *sidecar.Sidecar
	egress  string
	ingress string
	admin   string
	client  *http.Client // speaks to the egress in proxy mode
	rev     atomic.Int64
}

func testConfig(t testing.TB, mutate func(*config.Config)) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Service.Name = "caller"
	cfg.DrainTimeout = 5 * time.Second
	if servetest.NetHTTP() { // the differential check (runtime.http)
		cfg.Runtime.HTTP = config.HTTPNetHTTP
	}
	if mutate != nil {
		mutate(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startSidecar(t testing.TB, cfg *config.Config, ctl sidecar.Control) *harness {
	t.Helper()
	eg, in, ad := listen(t), listen(t), listen(t)
	sc, err := sidecar.New(cfg, sidecar.Options{Control: ctl, Logger: slog.New(slog.DiscardHandler), Egress: eg, Ingress: in, Admin: ad})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sidecar run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("sidecar did not stop")
		}
	})
	h := &harness{sc: sc, egress: eg.Addr().String(), ingress: in.Addr().String(), admin: ad.Addr().String()}
	proxyURL, _ := url.Parse("http://" + h.egress)
	h.client = &http.Client{
		Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), MaxIdleConnsPerHost: 64},
		Timeout:   10 * time.Second,
	}
	t.Cleanup(h.client.CloseIdleConnections)
	return h
}

// drainingSidecar runs a sidecar without a control plane, with the given
// drain window and app as the one instance of "orders"; it returns the
// egress address, the cancel that starts the drain, and Run's result.
func drainingSidecar(t *testing.T, window time.Duration, app *echo) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	cfg := testConfig(t, func(c *config.Config) { c.DrainTimeout = window })
	eg, in, ad := listen(t), listen(t), listen(t)
	sc, err := newSidecar(cfg, nil, eg, in, ad)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	sc.Tables().Snapshot(1, []*registry.Instance{app.instance("orders", nil)}, nil)
	return eg.Addr().String(), cancel, done
}

// waitStopped waits for a sidecar's Run, cancelled, to return done's error.
func waitStopped(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sidecar did not stop")
	}
}

// set publishes a new table made of instances and resources.
func (h *harness) set(instances []*registry.Instance, resources ...*registry.Resource) {
	h.sc.Tables().Snapshot(h.rev.Add(1), instances, resources)
}

// get sends GET http://<service>/path through the egress with headers.
func (h *harness) get(t *testing.T, service, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	resp, body, err := h.do(service, path, hdr)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// do is get without the test: safe in other goroutines.
func (h *harness) do(service, path string, hdr map[string]string) (*http.Response, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+service+path, nil)
	if err != nil {
		return nil, "", err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body), err
}

// count sends n requests and returns how many each instance answered.
func (h *harness) count(t *testing.T, service string, n int, hdr map[string]string) map[string]int {
	t.Helper()
	out := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				resp, _, err := h.do(service, "/", hdr)
				mu.Lock()
				if err != nil {
					out["error "+err.Error()]++
				} else if resp.StatusCode == http.StatusOK {
					out[resp.Header.Get("X-Instance")]++
				} else {
					out[fmt.Sprintf("status %d %s", resp.StatusCode, resp.Header.Get("X-Mesh-Error"))]++
				}
				mu.Unlock()
			}
		}()
	}
	for range n {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	return out
}

// time6 spaces creation times one second apart.
func time6(i int) time.Duration { return time.Duration(i) * time.Second }

// scrape returns the admin /metrics text.
func scrape(t *testing.T, admin string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func splitHostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	return h, n, err
}

func newSidecar(cfg *config.Config, ctl sidecar.Control, eg, in, ad net.Listener) (*sidecar.Sidecar, error) {
	return sidecar.New(cfg, sidecar.Options{Control: ctl, Logger: slog.New(slog.DiscardHandler), Egress: eg, Ingress: in, Admin: ad})
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
