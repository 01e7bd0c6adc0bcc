// Command scenario runs scenario files (see docs/scenarios.md) with the
// process provider: every component a local process on loopback ports.
// The container provider is in the e2e module's command of the same name.
// The first SIGINT or SIGTERM cancels the run, which then stops every
// component; a second one ends the runner at once (components die with it).
package main

import (
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/scenarios/cli"
	_ "github.com/meshbridge/meshbridge/scenarios/process" // the default provider
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() { app.Main(cli.Command(version)) }
