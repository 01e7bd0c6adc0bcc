// Command sidecar is meshbridge's data plane: the proxy that runs beside one
// app instance (egress :15001, ingress :15006, admin 127.0.0.1:15000).
package main

import (
	"flag"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/sidecar/config"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `sidecar: meshbridge's data plane, beside one app instance.

Egress (app -> mesh, default 127.0.0.1:15001): HTTP_PROXY=http://127.0.0.1:15001,
then call http://<service>/path. Ingress (mesh -> app, default :15006).
Admin on 127.0.0.1:15000 (/healthz /readyz /metrics /config).

Usage: sidecar [flags]

Flags override the configuration file; see configs/sidecar.yaml.
`

var command = app.Command[config.Config]{
	Name: "sidecar", Usage: usage, Version: version,
	Defaults:   config.Default,
	ConfigFile: true,
	Decode: func(path string, cfg *config.Config) error {
		loaded, err := config.LoadFile(path) // onto the defaults, as cfg holds them
		if err != nil {
			return err
		}
		*cfg = *loaded
		return nil
	},
	Flags: func(fs *flag.FlagSet, c *config.Config) {
		fs.StringVar(&c.Service.Name, "service", c.Service.Name, "the app's service `name` (service.name)")
		fs.Var(portsFlag{&c.Service.Ports}, "service-ports", "the app's `ports`, name:port[:protocol],... e.g. rest:8080,grpc:9090 (service.ports)")
		fs.StringVar(&c.Control.Address, "control", c.Control.Address, "control API `URL` (control.address; empty runs without one)")
		fs.StringVar(&c.Egress.Listen, "egress", c.Egress.Listen, "egress listen `addr`ess (egress.listen)")
		fs.StringVar(&c.Ingress.Listen, "ingress", c.Ingress.Listen, "ingress listen `addr`ess (ingress.listen)")
		fs.StringVar(&c.Admin.Listen, "admin", c.Admin.Listen, "admin listen `addr`ess (admin.listen)")
	},
	Log:          func(c *config.Config) logging.Config { return c.Log },
	DrainTimeout: func(c *config.Config) time.Duration { return c.DrainTimeout },
	Run:          runSidecar,
}

func main() { app.Main(command) }
