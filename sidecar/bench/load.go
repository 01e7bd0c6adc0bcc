package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	Label      string  `json:"label"`
	Mode       string  `json:"mode"`
	Requests   int     `json:"requests"`
	Errors     int64   `json:"errors"`
	Dropped    int64   `json:"dropped"`
	RPS        float64 `json:"rps"`
	P50        float64 `json:"p50_ms"`
	P90        float64 `json:"p90_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	CPUPer1k   float64 `json:"cpu_cores_per_1k_rps,omitempty"`
	RSSMiB     float64 `json:"rss_mib,omitempty"`
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
}

func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	target := fs.String("url", "", "request URL")
	proxy := fs.String("proxy", "", "HTTP proxy URL (the egress sidecar)")
	qps := fs.Int("qps", 1000, "requests per second (open loop)")
	max := fs.Bool("max", false, "closed loop: as fast as -conns connections go")
	conns := fs.Int("conns", 32, "connections")
	dur := fs.Duration("duration", 10*time.Second, "run time")
	warm := fs.Duration("warmup", time.Second, "warm-up time, not measured")
	size := fs.Int("body", 1024, "request body bytes (POST)")
	method := fs.String("method", http.MethodPost, "request method; GET and HEAD send no body")
	label := fs.String("label", "", "label in the output")
	pids := fs.String("pids", "", "comma-separated process IDs whose CPU and memory to report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" {
		return fmt.Errorf("-url is required")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true, IdleConnTimeout: time.Minute}
	if *proxy != "" {
		u, err := url.Parse(*proxy)
		if err != nil {
			return err
		}
		tr.Proxy = http.ProxyURL(u)
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	body := bytes.Repeat([]byte("y"), *size)
	send := func() (time.Duration, error) {
		var rd io.Reader
		if *method != http.MethodGet && *method != http.MethodHead {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(*method, *target, rd)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), err
	}
	// Warm up the connection pools.
	wctx, wcancel := context.WithTimeout(context.Background(), *warm)
	closedLoop(wctx, *conns, send)
	wcancel()

	procs := parsePIDs(*pids)
	cpu0 := cpuSeconds(procs)
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	start := time.Now()
	var lats []time.Duration
	var errs, dropped int64
	if *max {
		lats, errs = closedLoop(ctx, *conns, send)
	} else {
		lats, errs, dropped = openLoop(ctx, *qps, *conns, send)
	}
	elapsed := time.Since(start)
	cpu := cpuSeconds(procs) - cpu0
	slices.Sort(lats)
	r := result{Label: *label, Mode: map[bool]string{true: "max", false: "rate"}[*max], Requests: len(lats), Errors: errs, Dropped: dropped,
		RPS: float64(len(lats)) / elapsed.Seconds(), P50: pct(lats, 50), P90: pct(lats, 90), P99: pct(lats, 99)}
	if len(lats) > 0 {
		r.Max = ms(lats[len(lats)-1])
	}
	if len(procs) > 0 {
		r.CPUSeconds = cpu
		r.CPUPer1k = cpu / elapsed.Seconds() / (r.RPS / 1000)
		r.RSSMiB, r.PeakRSSMiB = memory(procs)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// openLoop sends at a fixed rate from a schedule; a slot that finds every
// connection busy is dropped, not sent late.
func openLoop(ctx context.Context, qps, conns int, send func() (time.Duration, error)) ([]time.Duration, int64, int64) {
	jobs := make(chan struct{}, conns)
	var (
		mu      sync.Mutex
		all     []time.Duration
		errs    atomic.Int64
		dropped int64
		wg      sync.WaitGroup
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for range jobs {
				d, err := send()
				if err != nil {
					errs.Add(1)
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	interval := time.Second / time.Duration(qps)
	start := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		next := start.Add(time.Duration(i) * interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		select {
		case jobs <- struct{}{}:
		default:
			dropped++
		}
	}
	close(jobs)
	wg.Wait()
	return all, errs.Load(), dropped
}

func closedLoop(ctx context.Context, conns int, send func() (time.Duration, error)) ([]time.Duration, int64) {
	var (
		mu   sync.Mutex
		all  []time.Duration
		errs atomic.Int64
		wg   sync.WaitGroup
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				d, err := send()
				if err != nil {
					errs.Add(1)
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, errs.Load()
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return ms(sorted[i])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func parsePIDs(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// cpuSeconds sums user and system CPU time of the processes (/proc, Linux).
func cpuSeconds(pids []int) float64 {
	total := 0.0
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the ")" that ends the command name; utime and stime
		// are fields 14 and 15 of the whole line.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(fields[11], 64)
		st, _ := strconv.ParseFloat(fields[12], 64)
		total += (ut + st) / 100 // USER_HZ is 100 on Linux
	}
	return total
}

// memory sums current and peak resident memory of the processes, in MiB.
func memory(pids []int) (rss, peak float64) {
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				rss += kb / 1024
			case "VmHWM:":
				peak += kb / 1024
			}
		}
	}
	return rss, peak
}
