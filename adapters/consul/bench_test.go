package consul

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/registry"
)

// BenchmarkBlockingWatchers holds 1,000 blocking health queries on one
// service over loopback HTTP; each iteration makes one change and measures
// how long until every watcher has its answer. Run with -benchtime=20x.
func BenchmarkBlockingWatchers(b *testing.B) {
	const watchers = 1000
	env := newBenchEnv(b)
	ctx := context.Background()
	reg := func(i int) {
		inst := &registry.Instance{ID: fmt.Sprintf("w-%d", i), Service: "watched", Host: "10.0.0.1", Port: 8000 + i%1000, Origin: registry.OriginControl}
		if _, err := env.store.Register(ctx, inst); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 3 {
		reg(i)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: watchers + 10, MaxConnsPerHost: 0}}
	index := func(hdr http.Header) uint64 {
		n, _ := strconv.ParseUint(hdr.Get("X-Consul-Index"), 10, 64)
		return n
	}
	resp, err := client.Get(env.url + "/v1/health/service/watched")
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := index(resp.Header)

	var latencies []time.Duration
	var mu sync.Mutex
	next := 3
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		var ready, done sync.WaitGroup
		var changed atomic.Int64
		ready.Add(watchers)
		done.Add(watchers)
		errs := make(chan error, watchers)
		for range watchers {
			go func() {
				defer done.Done()
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/health/service/watched?index=%d&wait=60s", env.url, start), nil)
				ready.Done()
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				at := time.Now()
				if index(resp.Header) <= start {
					errs <- fmt.Errorf("answered without a change")
					return
				}
				mu.Lock()
				latencies = append(latencies, at.Sub(time.Unix(0, changed.Load())))
				mu.Unlock()
			}()
		}
		ready.Wait()
		waitBlocked(b, env, watchers)
		b.StartTimer()
		changed.Store(time.Now().UnixNano())
		reg(next)
		next++
		done.Wait()
		b.StopTimer()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		r, err := client.Get(env.url + "/v1/health/service/watched")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		start = index(r.Header)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(0, "ns/op")
}

// waitBlocked waits until n requests are parked in blocking queries.
func waitBlocked(b *testing.B, env *benchEnv, n int64) {
	deadline := time.Now().Add(30 * time.Second)
	for env.srv.blocked.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d watchers blocked", env.srv.blocked.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkTTLHeartbeats registers 5,000 services with TTL checks through
// consul/api and sends their heartbeats (PUT /v1/agent/check/pass) at the
// rate of one per service every 30 s, open loop, for a window. It reports
// the CPU the process used per second of the window as a share of one
// core, minus the share the same client load costs against a handler that
// does nothing, and the heap the registrations hold.
func BenchmarkTTLHeartbeats(b *testing.B) {
	const (
		services = 5000
		period   = 30 * time.Second
		window   = 15 * time.Second
	)
	env := newBenchEnv(b)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				reg := &api.AgentServiceRegistration{ID: fmt.Sprintf("hb-%d", i), Name: fmt.Sprintf("svc-%d", i%500),
					Port: 8080, Address: "10.0.0.1", Check: &api.AgentServiceCheck{TTL: "120s"}}
				if err := env.client.Agent().ServiceRegister(reg); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range services {
		work <- i
	}
	close(work)
	wg.Wait()
	// The first pass turns each new (critical) check passing, a store
	// write; the steady state measured below is heartbeats that change nothing.
	work = make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := env.client.Agent().PassTTL(fmt.Sprintf("service:hb-%d", i), ""); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range services {
		work <- i
	}
	close(work)
	wg.Wait()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	noop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer noop.Close()
	revBefore := env.store.Revision()
	b.ResetTimer()
	for range b.N {
		base := heartbeatLoad(b, noop.URL, services, period, window)
		used := heartbeatLoad(b, env.url, services, period, window)
		b.ReportMetric(used*100, "cpu-%-total")
		b.ReportMetric(base*100, "cpu-%-client")
		b.ReportMetric((used-base)*100, "cpu-%-adapter")
	}
	b.ReportMetric(float64(env.store.Revision()-revBefore), "store-writes")
	// Heartbeats that change nothing must not have written anything.
	if insts := env.instances(""); len(insts) != services {
		b.Fatalf("%d services registered, want %d", len(insts), services)
	}
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/services, "heap-B/service")
	b.ReportMetric(0, "ns/op")
}

// heartbeatLoad sends TTL passes for the services at the steady rate and
// returns the process CPU used per second of wall time.
func heartbeatLoad(b *testing.B, base string, services int, period, window time.Duration) float64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	interval := period / time.Duration(services)
	jobs := make(chan int, 1024)
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/v1/agent/check/pass/service:hb-%d", base, i), nil)
				resp, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failures.Add(1)
				}
			}
		}()
	}
	cpu0, wall0 := cpuTime(), time.Now()
	ticker := time.NewTicker(interval)
	stop := time.After(window)
	n := 0
loop:
	for {
		select {
		case <-ticker.C:
			jobs <- n % services
			n++
		case <-stop:
			break loop
		}
	}
	ticker.Stop()
	close(jobs)
	wg.Wait()
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d heartbeats failed against %s", f, n, base)
	}
	client.CloseIdleConnections()
	return cpu.Seconds() / wall.Seconds()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
