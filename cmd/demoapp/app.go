package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/internal/selfregister"
	"github.com/meshbridge/meshbridge/internal/serve"
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

// drainTimeout bounds the listener's drain after the deregistration.
const drainTimeout = 5 * time.Second

var command = app.Command[options]{
	Name: "demoapp", Usage: usage, Version: version,
	Defaults: defaultOptions, Flags: func(fs *flag.FlagSet, o *options) { o.flags(fs) },
	Log:          func(o *options) logging.Config { return o.log },
	DrainTimeout: func(*options) time.Duration { return drainTimeout },
	Run:          serveDemo,
}

// options are demoapp's settings: flags alone, no file.
type options struct {
	service, appVersion, instanceID string
	listen, advertise               string
	registry, registryURL           string
	nacosGRPCPort                   int
	metadata                        string // k=v,k=v; parsed by Validate and serveDemo
	egress                          string
	propagate                       string // a comma-separated list
	latency                         time.Duration
	errorRate                       float64
	errorStatus                     int
	heartbeat                       time.Duration
	discoveryRefresh                time.Duration
	log                             logging.Config
}

func defaultOptions() *options {
	return &options{
		appVersion: "v1", listen: "127.0.0.1:8080", registry: "none", propagate: "X-Canary,X-User,X-Mesh-Shadow",
		errorStatus: http.StatusInternalServerError, heartbeat: 5 * time.Second,
		log: logging.Config{Level: "info", Format: "text"},
	}
}

// Registries demoapp can register with.
var registryKinds = []string{"none", "control", "eureka", "consul", "nacos", "zookeeper"}

// flags binds demoapp's flags to o's fields.
func (o *options) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.service, "service", o.service, "service `name` to answer and register as (required)")
	fs.StringVar(&o.appVersion, "app-version", o.appVersion, "`version` to answer with and register as metadata version")
	fs.StringVar(&o.instanceID, "instance-id", o.instanceID, "instance `id` (default <service>-<advertise host>-<port>)")
	fs.StringVar(&o.listen, "listen", o.listen, "HTTP listen `addr`ess")
	fs.StringVar(&o.advertise, "advertise", o.advertise, "`host:port` registered for this instance, e.g. its sidecar's ingress (default the listen address)")
	fs.StringVar(&o.registry, "registry", o.registry, "registry to register with: "+strings.Join(registryKinds, ", "))
	fs.StringVar(&o.registryURL, "registry-url", o.registryURL, "registry `URL`: http://host:8761/eureka, http://host:8500, http://host:8848 (Nacos), http://host:8700 (control API); for ZooKeeper the connect string host:2181[,host:port] (spring.cloud.zookeeper.connect-string)")
	fs.IntVar(&o.nacosGRPCPort, "nacos-grpc-port", o.nacosGRPCPort, "Nacos gRPC `port` (default the HTTP port + 1000)")
	fs.StringVar(&o.metadata, "metadata", o.metadata, "instance metadata as `k=v,k=v` (version is added from --app-version)")
	fs.StringVar(&o.egress, "egress", o.egress, "sidecar egress proxy `URL` for downstream calls (default HTTP_PROXY)")
	fs.StringVar(&o.propagate, "propagate", o.propagate, "request `headers` copied onto downstream calls (X-Mesh-Shadow is always copied)")
	fs.DurationVar(&o.latency, "latency", o.latency, "extra `delay` added to every answer")
	fs.Float64Var(&o.errorRate, "error-rate", o.errorRate, "`share` of answers (0-1) that fail with --error-status")
	fs.IntVar(&o.errorStatus, "error-status", o.errorStatus, "HTTP `status` of injected errors")
	fs.DurationVar(&o.heartbeat, "heartbeat", o.heartbeat, "registry heartbeat `interval` (the lease is three times this)")
	fs.DurationVar(&o.discoveryRefresh, "discovery-refresh", o.discoveryRefresh, "with --registry eureka, consul, nacos or zookeeper and no --egress: find downstream services in the registry, fetching it every `interval` (Eureka's registry-fetch-interval-seconds, 30s there; Nacos pushes changes to the client and this is how long a list is reused, as Spring Cloud LoadBalancer's 35s cache; ZooKeeper is followed by watches and listed whole every interval besides, at least 1s), UP (Eureka, ZooKeeper's instance_status), passing (Consul) or healthy and enabled (Nacos) instances only, round robin (default off)")
	fs.StringVar(&o.log.Level, "log-level", o.log.Level, "debug, info, warn or error")
	fs.StringVar(&o.log.Format, "log-format", o.log.Format, "text or json")
}

// Validate names every wrong flag.
func (o *options) Validate() error {
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
	if o.registry == "zookeeper" {
		if err := zookeeperConnect(o.registryURL); err != nil {
			errs = append(errs, err)
		}
	} else if o.registry != "none" {
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
	bad(o.discoveryRefresh < 0, "--discovery-refresh: must not be negative")
	bad(o.discoveryRefresh > 0 && ((o.registry != "eureka" && o.registry != "consul" && o.registry != "nacos" && o.registry != "zookeeper") || o.egress != ""), "--discovery-refresh: needs --registry eureka, consul, nacos or zookeeper and no --egress (a sidecar finds the callees itself)")
	bad(o.registry == "zookeeper" && o.discoveryRefresh > 0 && o.discoveryRefresh < time.Second, "--discovery-refresh: with zookeeper, at least 1s (watches report every change; this is the complete listing besides)")
	bad(o.heartbeat < 100*time.Millisecond, "--heartbeat: must be at least 100ms")
	if _, err := parsePairs(o.metadata); err != nil {
		errs = append(errs, fmt.Errorf("--metadata: %w", err))
	}
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

// serveDemo listens, then serves and keeps the instance registered until
// the group stops; the registrar stops first, deregistering while the
// listener still answers, so callers stop picking it before it drains.
func serveDemo(_ context.Context, o *options, env *app.Env) error {
	log := env.Logger
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	env.Cleanup(func() { _ = ln.Close() }) // released if what follows fails
	host, port, err := o.advertised(ln.Addr())
	if err != nil {
		return fmt.Errorf("--advertise: %w", err)
	}
	id := o.instanceID
	if id == "" {
		id = fmt.Sprintf("%s-%s-%d", o.service, host, port)
	}
	cfg := appConfig{
		Service: o.service, Version: o.appVersion, Instance: id, Egress: o.egress,
		Propagate: splitList(o.propagate), Fault: fault{Latency: o.latency, ErrorRate: o.errorRate, Status: o.errorStatus},
	}
	var found interface {
		Pick(service string) (string, error)
		Run(ctx context.Context)
	}
	switch {
	case o.discoveryRefresh == 0:
	case o.registry == "consul":
		if found, err = newConsulLookup(o.registryURL, o.discoveryRefresh, log); err != nil {
			return err
		}
	case o.registry == "zookeeper":
		if found, err = newZooKeeperLookup(o.registryURL, o.discoveryRefresh, log); err != nil {
			return err
		}
	case o.registry == "nacos":
		if found, err = newNacosLookup(o.registryURL, o.nacosGRPCPort, o.discoveryRefresh, log); err != nil {
			return err
		}
	default:
		found = newEurekaLookup(o.registryURL, o.discoveryRefresh, log)
	}
	if found != nil {
		cfg.Lookup = found
	}
	d, err := newDemo(cfg)
	if err != nil {
		return err
	}
	meta, _ := parsePairs(o.metadata) // Validate checked it
	meta["version"] = o.appVersion
	var reg selfregister.Registrar = noRegistrar{}
	if o.registry != "none" {
		kind := o.registry
		if kind == "control" {
			kind = "mesh" // demoapp's older name for the control API
		}
		reg, err = selfregister.New(kind, selfregister.Registration{
			URL: o.registryURL, NacosGRPCPort: o.nacosGRPCPort, Service: o.service, ID: id,
			Host: host, Port: port, Metadata: meta, Heartbeat: o.heartbeat,
		}, log)
		if err != nil {
			return err
		}
	}
	if err := serve.Join(env.Group, serve.Listener{Name: "http", Listener: ln, Handler: d.Handler()}, log, serve.Timeouts{Shutdown: drainTimeout}, serve.Limits{}); err != nil {
		return err
	}
	log.Info("demoapp listening", "addr", ln.Addr().String(), "service", o.service, "version", o.appVersion,
		"instance", id, "registry", o.registry, "advertise", fmt.Sprintf("%s:%d", host, port))
	if found != nil {
		env.Go(func(ctx context.Context) error { found.Run(ctx); return nil })
	}
	env.GoFirst(func(ctx context.Context) error {
		reg.Run(ctx) // retries until ctx ends, then deregisters
		return nil
	})
	return nil
}

// noRegistrar is --registry none: nothing to keep registered.
type noRegistrar struct{}

func (noRegistrar) Run(ctx context.Context) { <-ctx.Done() }
