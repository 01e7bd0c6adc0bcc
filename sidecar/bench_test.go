package sidecar_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
)

// BenchmarkSidecarPair measures one request with a 1 KiB body and answer
// through egress sidecar -> ingress sidecar -> app, all in this process
// (scripts/bench-sidecar.sh measures separate processes against nginx).
func BenchmarkSidecarPair(b *testing.B) {
	app := startEcho(b, "echo-1")
	answer := bytes.Repeat([]byte("x"), 1024)
	app.setHandle(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(answer) })
	server := startSidecar(b, testConfig(b, func(c *config.Config) {
		c.Service.Name = "echo"
		_, port, _ := splitHostPort(app.addr)
		c.Service.Ports = []config.Port{{Name: "rest", Port: port, Protocol: "http"}}
	}), nil)
	client := startSidecar(b, testConfig(b, nil), nil)
	host, port, _ := splitHostPort(server.ingress)
	inst := &registry.Instance{ID: "echo-1", Service: "echo", Host: host, Port: port}
	inst.Normalize()
	server.set([]*registry.Instance{inst})
	proxyURL, _ := url.Parse("http://" + client.egress)
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), MaxIdleConnsPerHost: 64}}
	body := bytes.Repeat([]byte("y"), 1024)
	// "retry-on-503": a ServicePolicy retries on a status, so every
	// request body is kept in memory for a second try (none is needed).
	retry := resource(b, control.KindServicePolicy, "p", &control.ServicePolicy{Service: "echo",
		Retry: &control.RetryPolicy{Attempts: 2, RetryOn: []string{"503"}, Methods: []string{http.MethodPost}, BudgetPercent: 20}})
	for _, bc := range []struct {
		name      string
		resources []*registry.Resource
	}{{"default", nil}, {"retry-on-503", []*registry.Resource{retry}}} {
		b.Run(bc.name, func(b *testing.B) {
			client.set([]*registry.Instance{inst}, bc.resources...)
			b.ReportAllocs()
			b.SetBytes(2048)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := hc.Post("http://echo/", "application/octet-stream", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
		})
	}
	hc.CloseIdleConnections()
}

// BenchmarkHopLatency sends one request at a time (1 KiB each way) directly
// to the app, through the server sidecar's ingress, and through both
// sidecars: the differences are the latency each hop adds without load.
func BenchmarkHopLatency(b *testing.B) {
	app := startEcho(b, "echo-1")
	answer := bytes.Repeat([]byte("x"), 1024)
	app.setHandle(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(answer)
	})
	server := startSidecar(b, testConfig(b, func(c *config.Config) {
		c.Service.Name = "echo"
		_, port, _ := splitHostPort(app.addr)
		c.Service.Ports = []config.Port{{Name: "rest", Port: port, Protocol: "http"}}
	}), nil)
	client := startSidecar(b, testConfig(b, nil), nil)
	host, port, _ := splitHostPort(server.ingress)
	inst := &registry.Instance{ID: "echo-1", Service: "echo", Host: host, Port: port}
	inst.Normalize()
	client.set([]*registry.Instance{inst})
	server.set([]*registry.Instance{inst})
	body := bytes.Repeat([]byte("y"), 1024)
	run := func(b *testing.B, target string, proxy string) {
		tr := &http.Transport{MaxIdleConnsPerHost: 4}
		if proxy != "" {
			u, _ := url.Parse(proxy)
			tr.Proxy = http.ProxyURL(u)
		}
		hc := &http.Client{Transport: tr}
		for b.Loop() {
			resp, err := hc.Post(target, "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, "http://"+app.addr+"/", "") })
	b.Run("ingress", func(b *testing.B) { run(b, "http://"+server.ingress+"/", "") })
	b.Run("pair", func(b *testing.B) { run(b, "http://echo/", "http://"+client.egress) })
}
