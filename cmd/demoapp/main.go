// Command demoapp is the small service the scenarios and `make run` deploy:
// it registers itself through a real registry client (Eureka, Consul, Nacos
// or the control API), answers with its service, version and instance, calls
// downstream services through its sidecar, propagates the canary and shadow
// headers, and adds latency or errors when told to (flags, request headers or
// its /_demo/fault endpoint).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
