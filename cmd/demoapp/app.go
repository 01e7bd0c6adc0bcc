package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/internal/serve"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `demoapp: a demo service for meshbridge scenarios.

Answers every path with JSON naming its service, version and instance;
/call/<service>/<path> calls a downstream service through the sidecar's
egress (--egress or HTTP_PROXY) and includes its answer. Request headers
X-Demo-Latency (a duration) and X-Demo-Status (a code) steer one answer;
PUT /_demo/fault?latency=50ms&errorRate=0.1 steers every later one;
GET /_demo/stats counts the requests received (shadow and plain).

Usage: demoapp --service NAME [flags]
`

// options are the parsed flags.
type options struct {
	service, appVersion, instanceID string
	listen, advertise               string
	registry, registryURL           string
	nacosGRPCPort                   int
	metadata                        map[string]string
	egress                          string
	propagate                       []string
	latency                         time.Duration
	errorRate                       float64
	errorStatus                     int
	heartbeat                       time.Duration
	log                             logging.Config
	showVersion                     bool
}

// Registries demoapp can register with.
var registryKinds = []string{"none", "control", "eureka", "consul", "nacos"}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	var metadata, propagate string
	fs := flag.NewFlagSet("demoapp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.service, "service", "", "service `name` to answer and register as (required)")
	fs.StringVar(&o.appVersion, "app-version", "v1", "`version` to answer with and register as metadata version")
	fs.StringVar(&o.instanceID, "instance-id", "", "instance `id` (default <service>-<advertise host>-<port>)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "HTTP listen `addr`ess")
	fs.StringVar(&o.advertise, "advertise", "", "`host:port` registered for this instance, e.g. its sidecar's ingress (default the listen address)")
	fs.StringVar(&o.registry, "registry", "none", "registry to register with: "+strings.Join(registryKinds, ", "))
	fs.StringVar(&o.registryURL, "registry-url", "", "registry `URL`: http://host:8761/eureka, http://host:8500, http://host:8848 (Nacos), http://host:8700 (control API)")
	fs.IntVar(&o.nacosGRPCPort, "nacos-grpc-port", 0, "Nacos gRPC `port` (default the HTTP port + 1000)")
	fs.StringVar(&metadata, "metadata", "", "instance metadata as `k=v,k=v` (version is added from --app-version)")
	fs.StringVar(&o.egress, "egress", "", "sidecar egress proxy `URL` for downstream calls (default HTTP_PROXY)")
	fs.StringVar(&propagate, "propagate", "X-Canary,X-User,X-Mesh-Shadow", "request `headers` copied onto downstream calls (X-Mesh-Shadow is always copied)")
	fs.DurationVar(&o.latency, "latency", 0, "extra `delay` added to every answer")
	fs.Float64Var(&o.errorRate, "error-rate", 0, "`share` of answers (0-1) that fail with --error-status")
	fs.IntVar(&o.errorStatus, "error-status", http.StatusInternalServerError, "HTTP `status` of injected errors")
	fs.DurationVar(&o.heartbeat, "heartbeat", 5*time.Second, "registry heartbeat `interval` (the lease is three times this)")
	fs.StringVar(&o.log.Level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&o.log.Format, "log-format", "text", "text or json")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var err error
	if o.metadata, err = parsePairs(metadata); err != nil {
		return nil, fmt.Errorf("--metadata: %w", err)
	}
	o.propagate = splitList(propagate)
	return o, nil
}

// validate names every wrong flag.
func (o *options) validate() error {
	var errs []error
	bad := func(cond bool, format string, args ...any) {
		if cond {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	bad(o.service == "" || strings.ContainsAny(o.service, "/ \t"), "--service: required, without '/' or spaces")
	bad(o.appVersion == "", "--app-version: must not be empty")
	_, _, err := net.SplitHostPort(o.listen)
	bad(err != nil, "--listen: must be host:port, got %q", o.listen)
	if o.advertise != "" {
		_, _, err := splitHostPort(o.advertise)
		bad(err != nil, "--advertise: %v", err)
	}
	known := false
	for _, k := range registryKinds {
		known = known || k == o.registry
	}
	bad(!known, "--registry: must be one of %s, got %q", strings.Join(registryKinds, ", "), o.registry)
	if o.registry != "none" {
		u, err := url.Parse(o.registryURL)
		bad(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "", "--registry-url: must be an http(s) URL, got %q", o.registryURL)
	}
	bad(o.nacosGRPCPort < 0 || o.nacosGRPCPort > 65535, "--nacos-grpc-port: must be 0-65535")
	if o.egress != "" {
		u, err := url.Parse(o.egress)
		bad(err != nil || u.Scheme != "http" || u.Host == "", "--egress: must be an http URL, got %q", o.egress)
	}
	bad(o.latency < 0, "--latency: must not be negative")
	bad(o.errorRate < 0 || o.errorRate > 1, "--error-rate: must be between 0 and 1")
	bad(o.errorStatus < 200 || o.errorStatus > 599, "--error-status: must be 200-599")
	bad(o.heartbeat < 100*time.Millisecond, "--heartbeat: must be at least 100ms")
	return errors.Join(errs...)
}

// advertised returns the host and port to register.
func (o *options) advertised(bound net.Addr) (string, int, error) {
	if o.advertise != "" {
		return splitHostPort(o.advertise)
	}
	host, port, err := splitHostPort(bound.String())
	if err == nil && (host == "" || host == "::" || host == "0.0.0.0") {
		host = "127.0.0.1"
	}
	return host, port, err
}

func splitHostPort(hp string) (string, int, error) {
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, fmt.Errorf("must be host:port, got %q", hp)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", hp)
	}
	return host, port, nil
}

func parsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range splitList(s) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("want k=v, got %q", kv)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "demoapp:", err)
		return exitUsage
	}
	if o.showVersion {
		fmt.Fprintln(stdout, "demoapp", version)
		return exitOK
	}
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, "demoapp:", strings.ReplaceAll(err.Error(), "\n", "; "))
		return exitUsage
	}
	log, err := logging.New(o.log, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "demoapp:", err)
		return exitUsage
	}
	if err := serveApp(ctx, o, log); err != nil {
		log.Error("demoapp failed", "error", err)
		return exitFailed
	}
	return exitOK
}

// serveApp listens, registers once the listener is up, serves until ctx
// ends, then deregisters before it drains (so callers stop picking it first).
func serveApp(ctx context.Context, o *options, log *slog.Logger) error {
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	host, port, err := o.advertised(ln.Addr())
	if err != nil {
		ln.Close()
		return fmt.Errorf("--advertise: %w", err)
	}
	id := o.instanceID
	if id == "" {
		id = fmt.Sprintf("%s-%s-%d", o.service, host, port)
	}
	app, err := newApp(appConfig{
		Service: o.service, Version: o.appVersion, Instance: id, Egress: o.egress,
		Propagate: o.propagate, Fault: fault{Latency: o.latency, ErrorRate: o.errorRate, Status: o.errorStatus},
	})
	if err != nil {
		ln.Close()
		return err
	}
	meta := map[string]string{}
	for k, v := range o.metadata {
		meta[k] = v
	}
	meta["version"] = o.appVersion
	reg, err := newRegistrar(o.registry, registration{
		URL: o.registryURL, NacosGRPCPort: o.nacosGRPCPort, Service: o.service, ID: id,
		Host: host, Port: port, Metadata: meta, Heartbeat: o.heartbeat,
	}, log)
	if err != nil {
		ln.Close()
		return err
	}

	group := serve.NewGroup(log, serve.Timeouts{Shutdown: 5 * time.Second}, serve.Limits{})
	group.Add(serve.Listener{Name: "http", Listener: ln, Handler: app.Handler()})
	srvCtx, stopServing := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- group.Serve(srvCtx) }()
	log.Info("demoapp listening", "addr", ln.Addr().String(), "service", o.service, "version", o.appVersion,
		"instance", id, "registry", o.registry, "advertise", fmt.Sprintf("%s:%d", host, port))

	regCtx, stopRegistrar := context.WithCancel(ctx)
	regDone := make(chan struct{})
	go func() {
		defer close(regDone)
		reg.Run(regCtx) // retries until regCtx ends, then deregisters
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-served:
		served <- runErr
	}
	stopRegistrar()
	<-regDone
	stopServing()
	if err := <-served; err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// controlClient builds a control API client for the control registrar.
func controlClient(rawURL string, log *slog.Logger) (*control.Client, error) {
	return control.NewClient(rawURL, control.WithLogger(log), control.WithToken(os.Getenv("MESHBRIDGE_CONTROL_TOKEN")))
}
