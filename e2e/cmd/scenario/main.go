// Command scenario is cmd/scenario with the container provider as well
// (testcontainers-go lives only in the e2e module):
//
//	go run ./e2e/cmd/scenario run --provider container scenarios/canary-by-header.yaml
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/meshbridge/meshbridge/e2e/containers" // the container provider
	"github.com/meshbridge/meshbridge/scenarios/cli"
	_ "github.com/meshbridge/meshbridge/scenarios/process" // the default provider
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills at once
	}()
	os.Exit(cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, version))
}
