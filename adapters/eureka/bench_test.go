package eureka

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// The benchmarks measure the server side of a fetch (handler to bytes,
// no network): go test -bench . -run '^$' ./adapters/eureka/
// The bench command (adapters/eureka/bench) adds percentiles over real
// connections and the renew CPU measurement.

const benchInstances = 10000

// benchServer is a running server over a store holding n instances.
func benchServer(b *testing.B, n int) (*Server, *embedded.Store) {
	b.Helper()
	store := adaptertest.Store(b)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				if _, err := store.Register(ctx, benchInstance(i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	srv, err := New(store, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	adaptertest.Go(b, "the Eureka view", srv.Run)
	srv.view.waitFor(ctx, store.Revision())
	return srv, store
}

func benchInstance(i int) *registry.Instance {
	app := "service-" + strconv.Itoa(i%500)
	host := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	return &registry.Instance{
		ID: host + ":" + app + ":8080", Service: app, Host: host, Port: 8080, Ephemeral: true, Origin: registry.OriginEureka,
		Metadata: map[string]string{"management.port": "8080", "version": "v1"},
		Attributes: map[string]string{
			attrIPAddr: host, attrHomePageURL: "http://" + host + ":8080/", attrVIPAddress: app, attrSecureVIPAddress: app,
			attrStatusPageURL: "http://" + host + ":8080/actuator/info", attrHealthCheckURL: "http://" + host + ":8080/actuator/health",
		},
		Lease: registry.Lease{RenewalInterval: 30 * time.Second, Duration: 90 * time.Second},
	}
}

func BenchmarkFullFetch(b *testing.B) {
	srv, store := benchServer(b, benchInstances)
	h := srv.Handler()
	for _, f := range []struct{ name, accept string }{{"json", "application/json"}, {"xml", "application/xml"}} {
		for _, gz := range []bool{false, true} {
			for _, changed := range []bool{false, true} {
				name := f.name + "/gzip=" + strconv.FormatBool(gz) + "/afterChange=" + strconv.FormatBool(changed)
				b.Run(name, func(b *testing.B) {
					size := serveGet(b, h, "/eureka/apps/", f.accept, gz) // warm: encode every instance once
					for i := 0; b.Loop(); i++ {
						if changed {
							b.StopTimer()
							touch(b, srv, store, i)
							b.StartTimer()
						}
						size = serveGet(b, h, "/eureka/apps/", f.accept, gz)
					}
					b.ReportMetric(float64(size), "body-bytes")
				})
			}
		}
	}
}

func BenchmarkDelta(b *testing.B) {
	srv, store := benchServer(b, benchInstances)
	for i := range 500 {
		touch(b, srv, store, i)
	}
	h := srv.Handler()
	for _, f := range []struct{ name, accept string }{{"json", "application/json"}, {"xml", "application/xml"}} {
		b.Run(f.name+"/500changes", func(b *testing.B) {
			size := serveGet(b, h, "/eureka/apps/delta", f.accept, false)
			for b.Loop() {
				size = serveGet(b, h, "/eureka/apps/delta", f.accept, false)
			}
			b.ReportMetric(float64(size), "body-bytes")
		})
	}
}

func BenchmarkRenew(b *testing.B) {
	srv, _ := benchServer(b, 5000)
	h := srv.Handler()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			in := benchInstance(i % 5000)
			req := httptest.NewRequest(http.MethodPut, "/eureka/apps/"+strings.ToUpper(in.Service)+"/"+in.ID+"?status=UP&lastDirtyTimestamp=0", nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("renew: %d", rec.Code)
				return
			}
			i++
		}
	})
}

// touch changes one instance and waits until the view has it.
func touch(b *testing.B, srv *Server, store registry.Store, i int) {
	in := benchInstance(i % benchInstances)
	out, err := store.Update(context.Background(), registry.NewInstanceKey("", "", in.Service, in.ID), func(x *registry.Instance) error {
		x.Metadata["build"] = strconv.Itoa(i)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	srv.view.waitFor(context.Background(), out.Revision)
}

func serveGet(b *testing.B, h http.Handler, path, accept string, gz bool) int {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept", accept)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	w := &countingWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	if w.code != http.StatusOK {
		b.Fatalf("GET %s: %d", path, w.code)
	}
	return w.n
}

// countingWriter is a ResponseWriter that only counts the body, so the
// benchmark measures the server and not a growing buffer.
type countingWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *countingWriter) Header() http.Header { return w.header }

func (w *countingWriter) WriteHeader(code int) { w.code = code }

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
