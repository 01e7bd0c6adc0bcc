package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/pace"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// benchHeaders are what a typical service-to-service call carries.
var benchHeaders = http.Header{
	"Accept":          {"application/json"},
	"Accept-Encoding": {"gzip"},
	"User-Agent":      {"Java/17 RestTemplate"},
	"X-B3-Traceid":    {"463ac35c9f6413ad48485a3953bb6124"},
	"X-B3-Spanid":     {"a2fb4a1d1a96d312"},
	"X-Request-Id":    {"0f8fad5b-d9cb-469f-a165-70867728950e"},
	"Authorization":   {"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.sig"},
}

// BenchmarkPluginCall measures one header-only request-phase call of the
// header-injector through the host (gRPC over a Unix socket with mTLS), one
// caller at a time and with parallel callers.
func BenchmarkPluginCall(b *testing.B) {
	h := startHost(b, benchConfig(b))
	p := mustPlugin(b, h, "inject")
	req := &sdk.Request{Method: "GET", Scheme: "http", Host: "orders", Path: "/orders/42", Header: benchHeaders}
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		cpu := startCPU(b, p.Stats().PID)
		for b.Loop() {
			if _, err := p.HandleRequest(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		cpu.report(b)
	})
	b.Run("paced", func(b *testing.B) {
		// 2,000 calls a second, as in the chain benchmark: each starts
		// from idle threads on both sides.
		cpu := startCPU(b, p.Stats().PID)
		var took []time.Duration
		tick := pace.NewTicker(time.Second / 2000) // time.Sleep would tick every millisecond
		defer tick.Stop()
		for b.Loop() {
			<-tick.C
			start := time.Now()
			if _, err := p.HandleRequest(ctx, req); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		cpu.report(b)
		b.ReportMetric(us(percentile(took, 50)), "p50-µs")
		b.ReportMetric(us(percentile(took, 99)), "p99-µs")
	})
	b.Run("parallel", func(b *testing.B) {
		cpu := startCPU(b, p.Stats().PID)
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := p.HandleRequest(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		cpu.report(b)
	})
}

// benchConfig is the header-injector's configuration. PLUGIN_BENCH_GOMAXPROCS
// sets the plugin's GOMAXPROCS (the SDK's default is 1).
func benchConfig(b *testing.B) host.Config {
	cfg := pluginConfig(b, "inject", "header-injector", "-set", "X-Team: payments")
	if v := os.Getenv("PLUGIN_BENCH_GOMAXPROCS"); v != "" {
		cfg.Env = map[string]string{"GOMAXPROCS": v}
	}
	return cfg
}

// cpuMeter measures the CPU time the host (this process) and the plugin
// process spend per call: unlike wall time, it hardly depends on what
// else the shared machine is doing.
type cpuMeter struct {
	pid                      int
	host, plugin             time.Duration
	hostSwitch, pluginSwitch int64
}

func startCPU(b *testing.B, pluginPID int) *cpuMeter {
	return &cpuMeter{pid: pluginPID, host: selfCPU(b), plugin: procCPU(b, pluginPID),
		hostSwitch: selfSwitches(b), pluginSwitch: procSwitches(b, pluginPID)}
}

func (m *cpuMeter) report(b *testing.B) {
	n := float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(us(selfCPU(b)-m.host)/n, "host-cpu-µs/call")
	b.ReportMetric(us(procCPU(b, m.pid)-m.plugin)/n, "plugin-cpu-µs/call")
	// Context switches are thread wake-ups and sleeps: the cost that
	// makes a call slow in a VM, and a steadier figure than CPU time.
	b.ReportMetric(float64(selfSwitches(b)-m.hostSwitch)/n, "host-switches/call")
	b.ReportMetric(float64(procSwitches(b, m.pid)-m.pluginSwitch)/n, "plugin-switches/call")
}

func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfSwitches counts this process's context switches so far.
func selfSwitches(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Nvcsw + ru.Nivcsw
}

// procSwitches counts a process's context switches so far, over its
// threads (Go's threads live as long as the process).
func procSwitches(b *testing.B, pid int) int64 {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, t := range tasks {
		raw, err := os.ReadFile(dir + "/" + t.Name() + "/status")
		if err != nil {
			continue // the thread just ended
		}
		for line := range strings.Lines(string(raw)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// procCPU reads utime+stime of a process from /proc (in clock ticks of
// 10ms: run long enough for that to be small).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// BenchmarkChainLatency sends an open-loop load of 2,000 requests per
// second (uniform, no catch-up) to an HTTP server whose chain is either the
// upstream alone or the header-injector plugin in front of it, in
// alternating one-second slices so both see the same machine, and reports
// the latency percentiles and what the plugin adds. The servers, the host
// and the plugin run in a process of their own (this test binary started
// as a bench server), as a sidecar would, so the load generator does not
// take the host's CPUs. Run it with -benchtime=1x; every iteration is one
// full measurement. PLUGIN_BENCH_RPS sets another rate.
func BenchmarkChainLatency(b *testing.B) {
	const slices = 5 // seconds per case
	rate := 2000
	if v, err := strconv.Atoi(os.Getenv("PLUGIN_BENCH_RPS")); err == nil && v > 0 {
		rate = v // other rates, to tell queueing from the cost of a call
	}
	urls := startBenchServer(b, benchConfig(b))

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	defer client.CloseIdleConnections()
	// Warm up connections and the plugin paths.
	for _, c := range benchCases {
		openLoop(b, client, urls[c], rate, 500*time.Millisecond)
	}

	for b.Loop() {
		lat := map[string][]time.Duration{}
		for range slices {
			for _, c := range benchCases {
				lat[c] = append(lat[c], openLoop(b, client, urls[c], rate, time.Second)...)
			}
		}
		bp50, bp99 := percentile(lat["base"], 50), percentile(lat["base"], 99)
		pp50, pp99 := percentile(lat["plugin"], 50), percentile(lat["plugin"], 99)
		b.ReportMetric(us(bp50), "base-p50-µs")
		b.ReportMetric(us(bp99), "base-p99-µs")
		b.ReportMetric(us(pp50), "plugin-p50-µs")
		b.ReportMetric(us(pp99), "plugin-p99-µs")
		b.ReportMetric(us(pp50-bp50), "added-p50-µs")
		b.ReportMetric(us(pp99-bp99), "added-p99-µs")
		// The same plugin with its calls through grpc-go's transport, as
		// before they had a channel of their own; and a bare round trip
		// to another process over pipes in place of the plugin call.
		for _, c := range []string{"grpc", "floor"} {
			b.ReportMetric(us(percentile(lat[c], 50)-bp50), c+"-added-p50-µs")
			b.ReportMetric(us(percentile(lat[c], 99)-bp99), c+"-added-p99-µs")
		}
		n := 0
		for _, l := range lat {
			n += len(l)
		}
		b.ReportMetric(float64(n), "requests")
	}
}

// benchCases are the bench server's handlers, taking turns in this order:
// the upstream alone, behind the plugin, behind the plugin with calls on
// grpc-go's transport, and behind a bare round trip over pipes.
var benchCases = []string{"base", "plugin", "grpc", "floor"}

// The bench server: this test binary, started with benchServerEnv set to a
// plugin's configuration, serves each of benchCases on a loopback listener
// (a second run of the plugin for the grpc case), prints the URLs and stops
// (plugins and echo included) when its standard input closes.
const benchServerEnv = "MESHBRIDGE_PLUGIN_BENCH_SERVER"

func runBenchServer() int {
	var cfg host.Config
	if err := json.Unmarshal([]byte(os.Getenv(benchServerEnv)), &cfg); err != nil {
		fmt.Println("error", err)
		return 1
	}
	h, err := host.Start(context.Background(), []host.Config{cfg}, host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer h.Close()
	host.SetGRPCCalls(true)
	hg, err := host.Start(context.Background(), []host.Config{cfg}, host.Options{Logger: slog.New(slog.DiscardHandler)})
	host.SetGRPCCalls(false)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer hg.Close()
	payload := strings.Repeat("x", 1024)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, payload)
	})
	echo, stopEcho, err := startPipeEcho()
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer stopEcho()
	handlers := map[string]http.Handler{"base": upstream, "floor": floorHandler(echo, upstream)}
	for c, h := range map[string]*host.Host{"plugin": h, "grpc": hg} {
		p, _ := h.Plugin(cfg.Name)
		if handlers[c], err = host.HTTPMiddleware(p, upstream); err != nil {
			fmt.Println("error", err)
			return 1
		}
	}
	line := "urls"
	for _, c := range benchCases {
		s := httptest.NewServer(handlers[c])
		defer s.Close()
		line += " " + c + "=" + s.URL
	}
	fmt.Println(line)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark closes it
	return 0
}

func startBenchServer(b *testing.B, cfg host.Config) (urls map[string]string) {
	b.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchServerEnv+"="+string(raw))
	if v := os.Getenv("PLUGIN_BENCH_HOST_GOMAXPROCS"); v != "" {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+v)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close() // the server stops its plugin and exits
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		s.Scan()
		line <- s.Text()
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l := <-line:
		f := strings.Fields(l)
		if len(f) != len(benchCases)+1 || f[0] != "urls" {
			b.Fatalf("bench server said %q", l)
		}
		urls = map[string]string{}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			urls[k] = v
		}
		return urls
	case <-time.After(30 * time.Second):
		b.Fatal("bench server did not start")
	}
	return nil
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

// openLoop sends GET url at rate per second for d, each request on its own
// goroutine at its scheduled time (kept by package pace: time.Sleep would
// send pairs every millisecond); when the sender falls behind it does not
// send the missed requests in a burst. It returns every latency.
func openLoop(b *testing.B, client *http.Client, url string, rate int, d time.Duration) []time.Duration {
	interval := time.Second / time.Duration(rate)
	ctx, cancel := context.WithTimeout(context.Background(), d+10*time.Second)
	defer cancel()
	var mu sync.Mutex
	lat := make([]time.Duration, 0, int(d/interval))
	var wg sync.WaitGroup
	start := time.Now()
	pace.Run(start, interval, start.Add(d), func(_ time.Time, missed bool) {
		if missed {
			return // no catch-up
		}
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			req.Header = benchHeaders.Clone()
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			elapsed := time.Since(t0)
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
			mu.Lock()
			lat = append(lat, elapsed)
			mu.Unlock()
		})
	})
	wg.Wait()
	return lat
}
