// Command registry-adapter is meshbridge's control plane: it holds the mesh
// registry and the rule store and serves them through the native control API
// and the Eureka, Consul and Nacos APIs.
package main

import (
	"flag"
	"time"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/logging"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `registry-adapter: meshbridge's control plane.

Holds the mesh registry and rules; serves the control API (default :8700)
and the Eureka, Consul and Nacos APIs over the same registry.

Usage: registry-adapter [flags]

Flags override the configuration file; see configs/registry-adapter.yaml.
`

var command = app.Command[Config]{
	Name: "registry-adapter", Usage: usage, Version: version,
	Defaults:   DefaultConfig,
	ConfigFile: true, Decode: decodeConfig,
	Flags: func(fs *flag.FlagSet, c *Config) {
		fs.StringVar(&c.Store.Embedded.Dir, "data-dir", c.Store.Embedded.Dir, "embedded store `dir`ectory (store.embedded.dir)")
		fs.StringVar(&c.Control.Listen, "control-listen", c.Control.Listen, "control API `addr`ess (control.listen)")
		fs.StringVar(&c.Store.Type, "store", c.Store.Type, "store `type`: embedded or etcd (store.type)")
		fs.Var(app.ListFlag{List: &c.Store.Etcd.Endpoints}, "etcd-endpoints", "comma-separated etcd `endpoints` (store.etcd.endpoints)")
		for _, k := range frontend.Kinds() {
			c.FrontEnds[k.Name].Flags(fs)
		}
	},
	Log:          func(c *Config) logging.Config { return c.Log },
	DrainTimeout: func(c *Config) time.Duration { return c.HTTP.ShutdownTimeout },
	Run:          serveAll,
}

func main() { app.Main(command) }
