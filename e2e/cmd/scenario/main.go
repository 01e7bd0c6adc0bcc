// Command scenario is cmd/scenario with the container provider as well
// (testcontainers-go lives only in the e2e module):
//
//	go run ./e2e/cmd/scenario run --provider container scenarios/canary-by-header.yaml
package main

import (
	_ "github.com/meshbridge/meshbridge/e2e/containers" // the container provider
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/scenarios/cli"
	_ "github.com/meshbridge/meshbridge/scenarios/process" // the default provider
)

var version = "dev"

func main() { app.Main(cli.Command(version)) }
