package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// serve is the server process of renew mode: an embedded store with its
// default lease expiry, the adapter on a loopback port it prints, until
// the parent closes stdin or ctx ends.
func serve(ctx context.Context, c config) error {
	dir, err := os.MkdirTemp("", "eureka-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := embedded.Open(embedded.Options{Dir: dir})
	if err != nil {
		return err
	}
	defer store.Close()
	srv, err := eureka.New(store, eureka.Options{DeltaRetention: c.deltaRetention, Logger: slog.Default()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("LISTEN %s\n", ln.Addr())
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		// The parent closes our stdin to stop us.
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return srv.Serve(ctx, ln)
}

// runRenew starts the server process, registers the instances through the
// API as Spring clients do, then renews each one every interval (and,
// with -with-delta, fetches the delta as often) for the measured time,
// and reports the server's CPU time and memory.
func runRenew(ctx context.Context, c config) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, "-mode", "serve", "-delta-retention", c.deltaRetention.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait() // it exits once stdin is closed
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("server process: %w", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	if !ok {
		return fmt.Errorf("server process said %q", line)
	}
	pid := cmd.Process.Pid
	base := "http://" + addr + "/eureka"
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: c.conns, MaxConnsPerHost: c.conns, DisableCompression: true,
	}}
	if err := waitReady(ctx, client, base); err != nil {
		return err
	}

	start := time.Now()
	if err := parallel(c.conns, c.instances, func(i int) error { return register(ctx, client, base, i, c.apps) }); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	fmt.Printf("registered %d instances through POST /eureka/apps/{APP} in %v (%d connections)\n",
		c.instances, time.Since(start).Round(time.Millisecond), c.conns)
	if c.withDelta {
		// Measure the steady state: the registrations have left the delta.
		fmt.Printf("waiting %v for the registrations to leave the delta window\n", c.deltaRetention+5*time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.deltaRetention + 5*time.Second):
		}
	}

	idleCPU, idleWall, err := cpuOver(ctx, pid, 10*time.Second, func(context.Context) error { return nil })
	if err != nil {
		return err
	}
	var renewLat []time.Duration
	var mu sync.Mutex
	var failures atomic.Int64
	requests := 0
	loadCPU, loadWall, err := cpuOver(ctx, pid, c.duration, func(ctx context.Context) error {
		period := c.interval / time.Duration(c.instances)
		jobs := make(chan int, c.conns*4)
		var wg sync.WaitGroup
		for range c.conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					t0 := time.Now()
					code, err := renew(ctx, client, base, i, c.apps)
					d := time.Since(t0)
					if ctx.Err() != nil {
						continue // the measured time is over; this request was cut short
					}
					if err != nil || code != http.StatusOK {
						failures.Add(1)
					}
					mu.Lock()
					renewLat = append(renewLat, d)
					mu.Unlock()
					if c.withDelta {
						if code, err := fetchDelta(ctx, client, base); ctx.Err() == nil && (err != nil || code != http.StatusOK) {
							failures.Add(1)
						}
					}
				}
			}()
		}
		t0 := time.Now()
	dispatch:
		for n := 0; ; n++ {
			next := t0.Add(time.Duration(n) * period)
			if time.Until(next) > 0 {
				select {
				case <-ctx.Done():
					break dispatch
				case <-time.After(time.Until(next)):
				}
			}
			select {
			case <-ctx.Done():
				break dispatch
			case jobs <- n % c.instances:
				requests++
			}
		}
		close(jobs)
		wg.Wait()
		return nil
	})
	if err != nil {
		return err
	}
	rss, hwm, err := memory(pid)
	if err != nil {
		return err
	}
	s := summarize(renewLat)
	perSec := float64(requests) / loadWall.Seconds()
	fmt.Printf("\n| measure | value |\n| --- | --- |\n")
	fmt.Printf("| instances | %d (%d apps) |\n", c.instances, c.apps)
	fmt.Printf("| renew interval per instance | %v (%.1f renews/s) |\n", c.interval, perSec)
	if c.withDelta {
		fmt.Printf("| delta fetches | one per renew (%.1f/s, gzip off) |\n", perSec)
	}
	fmt.Printf("| measured | %v |\n", loadWall.Round(time.Millisecond))
	fmt.Printf("| server CPU under load | %.2f%% of one core |\n", 100*loadCPU.Seconds()/loadWall.Seconds())
	fmt.Printf("| server CPU idle (same registry, 10 s) | %.2f%% of one core |\n", 100*idleCPU.Seconds()/idleWall.Seconds())
	fmt.Printf("| server RSS / peak RSS | %.1f MiB / %.1f MiB |\n", float64(rss)/(1<<20), float64(hwm)/(1<<20))
	fmt.Printf("| renew latency p50 / p99 / max | %s / %s / %s ms |\n", ms(s.p50), ms(s.p99), ms(s.max))
	fmt.Printf("| failed requests | %d |\n", failures.Load())
	return nil
}

// cpuOver runs load for d and returns the CPU time the process used and
// the wall time it took.
func cpuOver(ctx context.Context, pid int, d time.Duration, load func(context.Context) error) (cpu, wall time.Duration, err error) {
	before, err := cpuTime(pid)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := load(ctx); err != nil {
		return 0, 0, err
	}
	<-ctx.Done()
	wall = time.Since(t0)
	after, err := cpuTime(pid)
	if err != nil {
		return 0, 0, err
	}
	return after - before, wall, nil
}

// cpuTime is user+system CPU time of a process from /proc/<pid>/stat
// (fields 14 and 15, in USER_HZ = 100 ticks per second on Linux).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it are safe.
	rest := b[bytes.LastIndexByte(b, ')')+2:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// memory returns VmRSS and VmHWM of a process in bytes.
func memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// parallel runs fn for 0..n-1 on workers goroutines and returns the first error.
func parallel(workers, n int, fn func(int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// register sends a Spring-shaped registration for instance i.
func register(ctx context.Context, client *http.Client, base string, i, apps int) error {
	in := instance(i, apps)
	body := fmt.Sprintf(`{"instance":{"instanceId":%q,"app":%q,"appGroupName":null,"ipAddr":%q,"sid":"na",`+
		`"homePageUrl":"http://%[3]s:8080/","statusPageUrl":"http://%[3]s:8080/actuator/info","healthCheckUrl":"http://%[3]s:8080/actuator/health",`+
		`"secureHealthCheckUrl":null,"vipAddress":%[4]q,"secureVipAddress":%[4]q,"countryId":1,`+
		`"dataCenterInfo":{"@class":"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo","name":"MyOwn"},"hostName":%[3]q,`+
		`"status":"UP","overriddenStatus":"UNKNOWN","leaseInfo":{"renewalIntervalInSecs":30,"durationInSecs":90,"registrationTimestamp":0,`+
		`"lastRenewalTimestamp":0,"evictionTimestamp":0,"serviceUpTimestamp":0},"isCoordinatingDiscoveryServer":false,`+
		`"lastUpdatedTimestamp":1700000000000,"lastDirtyTimestamp":1700000000000,"actionType":null,"asgName":null,`+
		`"port":{"$":8080,"@enabled":"true"},"securePort":{"$":443,"@enabled":"false"},"metadata":{"management.port":"8080","version":"v1"}}}`,
		in.ID, strings.ToUpper(in.Service), in.Host, in.Service)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/apps/"+strings.ToUpper(in.Service), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("register %s: status %d", in.ID, resp.StatusCode)
	}
	return nil
}

// renew sends Spring's heartbeat for instance i.
func renew(ctx context.Context, client *http.Client, base string, i, apps int) (int, error) {
	in := instance(i, apps)
	return call(ctx, client, http.MethodPut,
		base+"/apps/"+strings.ToUpper(in.Service)+"/"+in.ID+"?status=UP&lastDirtyTimestamp=1700000000000",
		"Content-Type", "application/json", "Accept", "application/json")
}

func fetchDelta(ctx context.Context, client *http.Client, base string) (int, error) {
	return call(ctx, client, http.MethodGet, base+"/apps/delta", "Accept", "application/json")
}

// call sends a bodiless request, reads the answer and returns its status.
func call(ctx context.Context, client *http.Client, method, url string, headers ...string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
	resp.Body.Close()
	return resp.StatusCode, nil
}
