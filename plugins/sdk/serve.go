package sdk

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// MaxRequestBodyLimit is the most of a request body a plugin can ask for.
const MaxRequestBodyLimit = 1 << 20

// ServeConfig says what a plugin implements. Set at least one handler.
type ServeConfig struct {
	// Request handles the request phase of HTTP calls (HTTP handler kind).
	Request RequestHandler
	// Response, optional, handles the response phase. Leave it nil unless
	// needed: every response phase is one more call per request.
	Response ResponseHandler
	// RequestBodyLimit is how many bytes of the request body the plugin
	// wants to see (0, the default: headers only; at most
	// MaxRequestBodyLimit). Bodies cost a copy and a bigger message on
	// every call: ask only when the decision depends on the body.
	RequestBodyLimit int
	// Instances amends or rejects service instances (instance transformer kind).
	Instances InstanceTransformer
	// Sequential serves the host's calls one at a time: one goroutine
	// receives a call, runs the handler and sends the answer, then
	// receives the next. By default a second goroutine takes over
	// receiving while a handler runs, so that a slow call holds up no
	// other; that hand-over costs every call a goroutine wake-up (in
	// docs/benchmarks.md, 13-65 µs at the median in five of six runs of
	// the chain benchmark, no difference seen in a real sidecar).
	// Set it only when no handler ever waits (on the network, a lock, a
	// timer): header edits, checks against data in memory. A call that
	// arrives while a handler runs waits for it. A plugin process runs
	// Go code on one core unless GOMAXPROCS says otherwise, so handlers
	// that only compute lose nothing by it.
	Sequential bool
}

// Validate checks the configuration.
func (c *ServeConfig) Validate() error {
	var errs []error
	if c.Request == nil && c.Response == nil && c.Instances == nil {
		errs = append(errs, errors.New("nothing to serve: set Request, Response or Instances"))
	}
	if c.RequestBodyLimit < 0 || c.RequestBodyLimit > MaxRequestBodyLimit {
		errs = append(errs, fmt.Errorf("RequestBodyLimit: must be 0-%d, got %d", MaxRequestBodyLimit, c.RequestBodyLimit))
	}
	if c.RequestBodyLimit > 0 && c.Request == nil {
		errs = append(errs, errors.New("RequestBodyLimit: needs a Request handler"))
	}
	return errors.Join(errs...)
}

// Serve runs the plugin until the host stops it, then returns. Call it
// last in main. Run by hand (without a host), it explains what the binary
// is and exits with status 1.
func Serve(cfg ServeConfig) {
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "meshbridge plugin %s: invalid ServeConfig: %v\n", binaryName(), err)
		os.Exit(1)
	}
	RequireHost()
	limitProcs()
	logger := Logger()
	slog.SetDefault(logger)
	srv := newServer(cfg, logger)
	stopChannel, err := srv.ServeInheritedChannel()
	if err != nil {
		// The host carries the calls on the gRPC stream instead, a little slower.
		logger.Warn("no calls' channel", "error", err)
	}
	if stopChannel != nil {
		defer stopChannel()
	}
	go exitWithParent(logger, os.Getppid(), 250*time.Millisecond)

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: srv.pluginSets(),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, wire.ServerOptions()...)...)
		},
		// go-plugin's own messages, in the same JSON form as Logger's.
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "go-plugin",
			Output:     stderr,
			JSONFormat: true,
			Level:      hclog.Warn,
		}),
	})
}

// RequireHost exits with a message saying what this binary is, unless a
// meshbridge host started it. Serve calls it; a plugin that checks its
// flags or keys before Serve calls it first (after flag.Parse, so -h still
// works), so that someone running the binary by hand learns what it is
// rather than which flag is missing.
func RequireHost() {
	if os.Getenv(wire.Handshake.MagicCookieKey) != wire.Handshake.MagicCookieValue {
		fmt.Fprintf(stderr, notAHostMessage, binaryName())
		os.Exit(1)
	}
}

const notAHostMessage = `%s is a meshbridge plugin: it is not meant to be run directly.

A meshbridge binary (sidecar, registry-adapter, registrysync, mockserver)
starts it when it is listed under "plugins:" in that binary's configuration,
with its path and sha256 checksum. See docs/plugins.md.
`

func binaryName() string { return filepath.Base(os.Args[0]) }

// limitProcs runs the plugin's Go code on one thread unless the
// environment sets GOMAXPROCS (the host configuration's env can, for a
// plugin that needs more CPU). Calls take microseconds; with more than one
// thread, each of a call's goroutine wake-ups also wakes an idle thread
// to look for work, which in a VM costs more than the call itself
// (docs/benchmarks.md, "Plugins").
func limitProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// exitWithParent ends the plugin when the host that started it is gone
// (the plugin was re-parented). On Linux the host also asks the kernel to
// kill its plugins when it dies; this covers the other systems and the
// corner cases of that mechanism.
func exitWithParent(logger *slog.Logger, ppid int, every time.Duration) {
	if ppid <= 1 {
		return // started by init: there is no host process to follow
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			logger.Warn("host process is gone, exiting", "host_pid", ppid)
			os.Exit(2)
		}
	}
}
