// Command bench measures the Eureka adapter: full and delta fetches of a
// large registry (latency percentiles and bytes, JSON and XML, with and
// without gzip) and the cost of many instances renewing their leases (CPU
// share of one core and memory of the server process). Figures go to
// docs/benchmarks.md.
//
//	go run ./adapters/eureka/bench -mode fetch -instances 10000
//	go run ./adapters/eureka/bench -mode renew -instances 5000 -interval 30s -duration 60s
//
// In renew mode the server runs in a child process (this binary with
// -mode serve) so its CPU time and memory are measured apart from the load
// generator's.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type config struct {
	mode           string
	instances      int
	apps           int
	requests       int
	interval       time.Duration
	duration       time.Duration
	conns          int
	deltaRetention time.Duration
	withDelta      bool
	dir            string
}

func main() {
	var c config
	flag.StringVar(&c.mode, "mode", "fetch", "fetch, renew, or serve (internal: the server process of renew mode)")
	flag.IntVar(&c.instances, "instances", 10000, "instances in the registry")
	flag.IntVar(&c.apps, "apps", 0, "applications they belong to (default instances/20)")
	flag.IntVar(&c.requests, "requests", 200, "fetch mode: requests per measured case")
	flag.DurationVar(&c.interval, "interval", 30*time.Second, "renew mode: how often each instance renews")
	flag.DurationVar(&c.duration, "duration", 60*time.Second, "renew mode: measured time")
	flag.IntVar(&c.conns, "conns", 64, "renew mode: client connections (Spring keeps a pool per client; we share one)")
	flag.BoolVar(&c.withDelta, "with-delta", false, "renew mode: each instance also fetches /apps/delta every interval, as Spring clients do")
	flag.DurationVar(&c.deltaRetention, "delta-retention", 3*time.Minute, "server's delta retention")
	flag.StringVar(&c.dir, "dir", "", "store directory (default: a temporary one)")
	flag.Parse()
	if c.apps <= 0 {
		c.apps = max(1, c.instances/20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	var err error
	switch c.mode {
	case "fetch":
		err = runFetch(ctx, c)
	case "renew":
		err = runRenew(ctx, c)
	case "serve":
		err = serve(ctx, c)
	default:
		err = fmt.Errorf("unknown mode %q", c.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
