package consul

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

// BenchmarkBlockingWatchers holds 1,000 blocking health queries on one
// service over loopback HTTP; each iteration changes one of its three
// instances and measures until every watcher has its answer. The adapter
// runs in this process; run with -benchtime=20x.
func BenchmarkBlockingWatchers(b *testing.B) {
	env := newBenchEnv(b)
	ctx := context.Background()
	for i := range 3 {
		inst := &registry.Instance{ID: fmt.Sprintf("w-%d", i), Service: "watched", Host: "10.0.0.1", Port: 8000 + i, Origin: registry.OriginControl}
		if _, err := env.store.Register(ctx, inst); err != nil {
			b.Fatal(err)
		}
	}
	key := registry.NewInstanceKey("", "", "watched", "w-0")
	watchers(b, env.url, processCPU, env.srv.blocked.Load, func(round int) {
		if _, err := env.store.Update(ctx, key, func(i *registry.Instance) error {
			i.Metadata = map[string]string{"round": strconv.Itoa(round)}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkBlockingWatchersProcess is BenchmarkBlockingWatchers with the
// adapter in a process of its own, so that its CPU per change is measured
// apart from the 1,000 clients'; changes are re-registrations through the
// agent API.
func BenchmarkBlockingWatchersProcess(b *testing.B) {
	child := startAdapterProcess(b)
	cfg := api.DefaultConfig()
	cfg.Address = strings.TrimPrefix(child.url, "http://")
	client, err := api.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	reg := func(i, round int) {
		if err := client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: fmt.Sprintf("w-%d", i), Name: "watched",
			Port: 8000 + i, Address: "10.0.0.1", Meta: map[string]string{"round": strconv.Itoa(round)}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 3 {
		reg(i, -1)
	}
	blocked := func() int64 {
		resp, err := http.Get(child.url + "/debug/blocked")
		if err != nil {
			return 0
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		n, _ := strconv.ParseInt(string(body), 10, 64)
		return n
	}
	watchers(b, child.url, func() time.Duration { return child.cpu(b) }, blocked, func(round int) { reg(0, round) })
}

// watchers drives the 1,000-watcher measurement against url: cpu reads the
// adapter's CPU time, blocked how many queries it has parked, change makes
// one change to the watched service.
func watchers(b *testing.B, url string, cpu func() time.Duration, blocked func() int64, change func(round int)) {
	const n = 1000
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n + 10}}
	index := func(hdr http.Header) uint64 {
		v, _ := strconv.ParseUint(hdr.Get("X-Consul-Index"), 10, 64)
		return v
	}
	current := func() uint64 {
		resp, err := client.Get(url + "/v1/health/service/watched")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return index(resp.Header)
	}
	start := current()
	// Latencies are measured from the moment the change was acknowledged
	// (the store's fsync done, from where the adapter can act) and, apart,
	// from before the write (on a shared disk fsync alone varies by tens of
	// milliseconds).
	var latencies, withWrite []time.Duration
	var cpuTotal time.Duration
	b.ResetTimer()
	for round := range b.N {
		b.StopTimer()
		var mu sync.Mutex
		var answered []time.Time
		var done sync.WaitGroup
		errs := make(chan error, n)
		done.Add(n)
		for range n {
			go func() {
				defer done.Done()
				resp, err := client.Get(fmt.Sprintf("%s/v1/health/service/watched?index=%d&wait=60s", url, start))
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
				answered = append(answered, at)
				mu.Unlock()
			}()
		}
		poll.UntilNil(b, "every watcher blocked", func() error {
			if got := blocked(); got < n {
				return fmt.Errorf("only %d of %d watchers blocked", got, n)
			}
			return nil
		}, poll.Within(30*time.Second))
		cpu0 := cpu()
		b.StartTimer()
		changed := time.Now()
		change(round)
		acked := time.Now()
		done.Wait()
		b.StopTimer()
		cpuTotal += cpu() - cpu0
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		for _, at := range answered {
			latencies = append(latencies, max(0, at.Sub(acked)))
			withWrite = append(withWrite, at.Sub(changed))
		}
		start = current()
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(latencies)
	slices.Sort(withWrite)
	pct := func(d []time.Duration, p float64) float64 {
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(latencies, 0.50), "p50-ms")
	b.ReportMetric(pct(latencies, 0.99), "p99-ms")
	b.ReportMetric(pct(latencies, 1), "max-ms")
	b.ReportMetric(pct(withWrite, 0.99), "p99-incl-write-ms")
	b.ReportMetric(float64(cpuTotal.Microseconds())/1000/float64(b.N), "cpu-ms/change")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkTTLHeartbeats measures the adapter in a process of its own (this
// test binary re-executed, see TestAdapterProcess), so that the load
// generator's CPU is not counted: 5,000 services with TTL checks are
// registered through consul/api, each check is passed once (turning it
// passing, a store write), then every check is passed once per 30 s, open
// loop, for a window. It reports the adapter process's CPU per second of
// the window as a share of one core, its resident memory, and how many
// store writes the steady heartbeats caused (none expected).
func BenchmarkTTLHeartbeats(b *testing.B) {
	const (
		services = 5000
		period   = 30 * time.Second
		window   = 20 * time.Second
	)
	child := startAdapterProcess(b)
	cfg := api.DefaultConfig()
	cfg.Address = strings.TrimPrefix(child.url, "http://")
	client, err := api.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rssBefore := child.rss(b)
	parallel(b, services, func(i int) error {
		return client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: fmt.Sprintf("hb-%d", i),
			Name: fmt.Sprintf("svc-%d", i%500), Port: 8080, Address: "10.0.0.1", Check: &api.AgentServiceCheck{TTL: "120s"}})
	})
	parallel(b, services, func(i int) error { return client.Agent().PassTTL(fmt.Sprintf("service:hb-%d", i), "") })
	_, meta, err := client.Catalog().Services(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		cpu0, wall0 := child.cpu(b), time.Now()
		heartbeatLoad(b, child.url, services, period, window)
		share := (child.cpu(b) - cpu0).Seconds() / time.Since(wall0).Seconds()
		b.ReportMetric(share*100, "cpu-%-of-core")
	}
	b.StopTimer()
	_, meta2, err := client.Catalog().Services(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(meta2.LastIndex-meta.LastIndex), "store-writes")
	b.ReportMetric(float64(child.rss(b))/(1<<20), "rss-MiB")
	b.ReportMetric(float64(child.rss(b)-rssBefore)/services, "rss-B/service")
	b.ReportMetric(0, "ns/op")
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parallel runs fn for 0..n-1 on 32 goroutines and fails on the first error.
func parallel(b *testing.B, n int, fn func(int) error) {
	var wg sync.WaitGroup
	work := make(chan int)
	var failed atomic.Value
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := fn(i); err != nil {
					failed.Store(err)
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
}

// adapterProcess is the adapter running in a child process.
type adapterProcess struct {
	cmd *exec.Cmd
	url string
}

const childEnv = "MESHBRIDGE_CONSUL_ADAPTER_CHILD"

// TestAdapterProcess is not a test: with MESHBRIDGE_CONSUL_ADAPTER_CHILD
// set it runs the adapter over an embedded store, prints its address and
// serves until its standard input closes. Benchmarks start it.
func TestAdapterProcess(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("helper process for benchmarks")
	}
	st := adaptertest.Store(t)
	srv := New(st, Options{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// /debug/blocked tells the benchmark how many queries are parked.
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.HandleFunc("/debug/blocked", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, srv.blocked.Load())
	})
	go http.Serve(ln, mux)
	fmt.Printf("ADDR %s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
}

func startAdapterProcess(b *testing.B) *adapterProcess {
	cmd := exec.Command(os.Args[0], "-test.run=^TestAdapterProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		b.Fatalf("child adapter: %q, %v", line, err)
	}
	go io.Copy(io.Discard, out)
	return &adapterProcess{cmd: cmd, url: "http://" + strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))}
}

// cpu is the child's user+system CPU time so far.
func (p *adapterProcess) cpu(b *testing.B) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the ")" that closes the command name; utime and stime
	// are fields 14 and 15 (1-based) of the whole line, in clock ticks.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond
}

// rss is the child's resident memory in bytes.
func (p *adapterProcess) rss(b *testing.B) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// heartbeatLoad sends TTL passes for the services at the steady rate for
// the window, on 16 workers over keep-alive connections.
func heartbeatLoad(b *testing.B, base string, services int, period, window time.Duration) {
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
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d heartbeats failed against %s", f, n, base)
	}
	client.CloseIdleConnections()
}
