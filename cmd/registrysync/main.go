// Command registrysync keeps legacy registries (Eureka, Consul, Nacos,
// ZooKeeper) and the mesh in step, one way or both, while services move
// to the mesh one by one.
package main

import (
	"flag"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/logging"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `registrysync: bridges legacy registries and the mesh, both ways, safely.

Copies the instances of each pair's registries into the other (one-way or
both) without loops, deleting only its own copies; serves its status
(/status) and metrics (/metrics) on the admin listener (default :8710).

Usage: registrysync --config FILE [flags]

Flags override the configuration file; see configs/registrysync.yaml.
`

var command = app.Command[Config]{
	Name: "registrysync", Usage: usage, Version: version,
	Defaults:   DefaultConfig,
	ConfigFile: true,
	Flags: func(fs *flag.FlagSet, c *Config) {
		fs.StringVar(&c.Admin.Listen, "admin-listen", c.Admin.Listen, "admin `addr`ess: /status, /metrics (admin.listen)")
		fs.StringVar(&c.ID, "id", c.ID, "the syncer's `id`, the owner marker on its copies (id)")
		fs.BoolVar(&c.DryRun, "dry-run", c.DryRun, "list the registries once, print what would be added, updated and removed, and exit")
		fs.BoolVar(&c.ReleaseBreaker, "release-breaker", c.ReleaseBreaker, "release the open deletion breakers of the syncer running on this host (POST /breaker/release on its admin listener, over loopback), print its answer, and exit")
	},
	Log:          func(c *Config) logging.Config { return c.Log },
	DrainTimeout: func(c *Config) time.Duration { return c.Drain.Timeout },
	Run:          serveAll,
}

func main() { app.Main(command) }
