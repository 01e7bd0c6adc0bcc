// Command scenario runs scenario files (see docs/scenarios.md) with the
// process provider: every component a local process on loopback ports.
// The container provider is in the e2e module's command of the same name.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/meshbridge/meshbridge/scenarios/cli"
	_ "github.com/meshbridge/meshbridge/scenarios/process" // the default provider
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	// The first signal cancels the run, which then stops every component;
	// a second one kills the runner at once (components die with it).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	os.Exit(cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, version))
}
