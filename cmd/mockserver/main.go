// Command mockserver stands in for a service a test cannot call: it
// answers from stubs (WireMock's mappings/ and __files/ folders, or
// meshbridge's YAML form), serves WireMock's admin API, reloads changed
// stub files, and registers itself under the mocked service's name in
// Eureka, Consul, Nacos or the mesh until SIGTERM.
package main

import (
	"flag"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/internal/selfregister"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `mockserver: a mock of an HTTP service that registers itself.

Answers from the stubs under --stubs (WireMock mappings/ and __files/,
or YAML), from the operations of --openapi documents, and from what
--record-from answered (recorded under --record-to), reloading them when
they change; WireMock's admin API is on
--admin-listen (or beside the stubs when that is empty). With --register
it registers as --service in each registry named, with metadata mock=true
and version, and deregisters on SIGTERM. docs/mockserver.md has the rest.

Usage: mockserver [--config FILE] [flags]

Flags override the configuration file; see configs/mockserver.yaml.
`

var command = app.Command[Config]{
	Name: "mockserver", Usage: usage, Version: version,
	Defaults:   DefaultConfig,
	ConfigFile: true,
	Flags: func(fs *flag.FlagSet, c *Config) {
		fs.StringVar(&c.Service, "service", c.Service, "the mocked service's `name`, registered with --register (service)")
		fs.Var(app.ListFlag{List: &c.Stubs}, "stubs", "comma-separated stub `roots`: folders or files (stubs)")
		fs.StringVar(&c.Listen, "listen", c.Listen, "stubs listener `addr`ess (listen)")
		fs.StringVar(&c.Admin.Listen, "admin-listen", c.Admin.Listen, "admin API `addr`ess; empty serves /__admin/ beside the stubs (admin.listen)")
		fs.BoolVar(&c.Strict, "strict", c.Strict, "equal stubs are an error, not a warning (strict)")
		fs.Int64Var(&c.Limits.MaxBodyBytes, "max-body-bytes", c.Limits.MaxBodyBytes, "largest request body to the stubs, in `bytes` (limits.maxBodyBytes)")
		fs.DurationVar(&c.Timeouts.ReadBody, "read-body-timeout", c.Timeouts.ReadBody, "how long a request body may take to arrive (timeouts.readBody)")
		fs.DurationVar(&c.Timeouts.Drain, "drain-timeout", c.Timeouts.Drain, "how long the stop after SIGTERM may take (timeouts.drain)")
		fs.Var(&repeatFlag{list: &c.OpenAPI.Files}, "openapi", "OpenAPI 3 document `file` to make stubs from; repeat or comma-separate for several (openapi.files)")
		fs.StringVar(&c.OpenAPI.Dir, "openapi-dir", c.OpenAPI.Dir, "stub root the OpenAPI stubs are written to; empty: a temporary `folder` (openapi.dir)")
		fs.StringVar(&c.Record.From, "record-from", c.Record.From, "proxy unmatched requests to this `URL` and record the answers (record.from)")
		fs.StringVar(&c.Record.To, "record-to", c.Record.To, "stub root the recordings are written to and served from (record.to)")
		fs.Var(&repeatFlag{list: &c.Register.Registries}, "register", "registry to register with: "+strings.Join(selfregister.Kinds, ", ")+"; repeat or comma-separate for several (register.registries)")
		fs.StringVar(&c.Register.Advertise, "advertise", c.Register.Advertise, "`host` or host:port registered for callers (default the listen host, or the first non-loopback address) (register.advertise)")
		fs.StringVar(&c.Register.Version, "register-version", c.Register.Version, "the instance's version `label` (register.version)")
		fs.StringVar(&c.Register.Eureka.URL, "eureka-url", c.Register.Eureka.URL, "Eureka `URL` (register.eureka.url)")
		fs.StringVar(&c.Register.Consul.URL, "consul-url", c.Register.Consul.URL, "Consul `URL` (register.consul.url)")
		fs.StringVar(&c.Register.Nacos.URL, "nacos-url", c.Register.Nacos.URL, "Nacos `URL` (register.nacos.url)")
		fs.IntVar(&c.Register.Nacos.GRPCPort, "nacos-grpc-port", c.Register.Nacos.GRPCPort, "Nacos gRPC `port`; 0 is the URL's port + 1000 (register.nacos.grpcPort)")
		fs.StringVar(&c.Register.Mesh.URL, "mesh-url", c.Register.Mesh.URL, "the mesh's control API `URL` (register.mesh.url)")
		fs.StringVar(&c.Log.Level, "log-level", c.Log.Level, "debug, info, warn or error (log.level)")
	},
	Log:          func(c *Config) logging.Config { return c.Log },
	DrainTimeout: func(c *Config) time.Duration { return c.Timeouts.Drain },
	Run:          serveMock,
}

func main() { app.Main(command) }

// repeatFlag is --register and --openapi: the first use replaces the
// file's list, later ones add to it, and each may hold several
// comma-separated items.
type repeatFlag struct {
	list *[]string
	set  bool
}

func (f *repeatFlag) String() string {
	if f.list == nil {
		return ""
	}
	return strings.Join(*f.list, ",")
}

func (f *repeatFlag) Set(v string) error {
	if !f.set {
		*f.list, f.set = nil, true
	}
	var more []string
	_ = app.ListFlag{List: &more}.Set(v) // ListFlag.Set does not fail
	*f.list = append(*f.list, more...)
	return nil
}
