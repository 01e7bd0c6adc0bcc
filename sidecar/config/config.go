package config

import (
	"time"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	_ "github.com/meshbridge/meshbridge/adapters/install" // every registry front-end of this build, for discovery mode
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/sidecar/chain"
)

// Config is the whole sidecar configuration. Every field's comment gives its
// default; configs/sidecar.yaml shows them all.
type Config struct {
	Service     Service     `yaml:"service"`
	Control     Control     `yaml:"control"`
	Egress      Egress      `yaml:"egress"`
	Ingress     Ingress     `yaml:"ingress"`
	Discovery   Discovery   `yaml:"discovery"`
	Admin       Admin       `yaml:"admin"`
	HealthCheck HealthCheck `yaml:"healthCheck"`
	Routing     Routing     `yaml:"routing"`
	Limits      Limits      `yaml:"limits"`
	Runtime     Runtime     `yaml:"runtime"`
	// DrainTimeout is how long requests in flight may finish after SIGTERM (default 20s).
	DrainTimeout time.Duration `yaml:"drainTimeout"`
	// Plugins are the out-of-process plugins this sidecar starts (default
	// none); the plugin handler runs them by name. See docs/plugins.md.
	Plugins []host.Config `yaml:"plugins"`
	// Log sets the level (debug, info, warn, error; default info) and the
	// format (text or json; default text).
	Log logging.Config `yaml:"log"`
	// Handlers holds each handler's settings by name, decoded onto the
	// handler's defaults; filled by Load (absent sections get defaults).
	Handlers map[string]chain.Config `yaml:"-"`
}

// Service describes the app beside the sidecar.
type Service struct {
	// Name is the app's service name (required).
	Name string `yaml:"name"`
	// Namespace of the app and of the services it calls (default "public").
	Namespace string `yaml:"namespace"`
	// Group for self-registration (default "DEFAULT_GROUP").
	Group string `yaml:"group"`
	// ID of the instance when the sidecar registers it (default name-host-port).
	ID string `yaml:"id"`
	// Host the app listens on (default 127.0.0.1).
	Host string `yaml:"host"`
	// Ports of the app, the first being the default target of ingress
	// traffic (default one port, rest:8080, protocol http). The flag
	// --service-ports rest:8080,grpc:9090 replaces the list.
	Ports []Port `yaml:"ports"`
	// AdvertiseHost is the address other sidecars reach this sidecar's
	// ingress at (default 127.0.0.1; set it to the pod or host IP).
	AdvertiseHost string `yaml:"advertiseHost"`
	// Register makes the sidecar register the app itself, with its ingress
	// address, and renew the lease (default false: the app registers
	// through discovery mode or the adapter).
	Register bool `yaml:"register"`
	// Metadata for self-registration; version, canary, shadow become labels (default none).
	Metadata map[string]string `yaml:"metadata"`
	// LeaseRenewal is how often a self-registration is renewed (default 10s).
	LeaseRenewal time.Duration `yaml:"leaseRenewal"`
	// LeaseDuration is how long a self-registration lives without renewal (default 30s).
	LeaseDuration time.Duration `yaml:"leaseDuration"`
}

// Port is one port of the app.
type Port struct {
	// Name of the port (rest, grpc, ...).
	Name string `yaml:"name"`
	// Port number (required).
	Port int `yaml:"port"`
	// Protocol: http (as the caller spoke), http1, h2c or grpc (default:
	// grpc when the name starts with "grpc", else http).
	Protocol string `yaml:"protocol"`
}

// Control is where the control plane is.
type Control struct {
	// Address of the control API (default http://127.0.0.1:8700).
	Address string `yaml:"address"`
	// Token is sent as a bearer token (default none; never printed).
	Token string `yaml:"token"`
	// TokenFile is read for the token when Token is empty (default none).
	TokenFile string `yaml:"tokenFile"`
	// WatchWait is the long-poll wait of the watch (default 30s).
	WatchWait time.Duration `yaml:"watchWait"`
}

// Egress is the app → mesh listener.
type Egress struct {
	// Listen address (default 127.0.0.1:15001; loopback so it is no open proxy).
	Listen string `yaml:"listen"`
	// Chain is the ordered outbound handler list (default ratelimit, fault,
	// mirror, timeout, router, headers, breaker, retry, outlier, loadbalance, plugin, transport).
	Chain []string `yaml:"chain"`
	// AllowHosts may be reached outside the mesh, by CONNECT or plain HTTP:
	// "api.example.com", "*.example.com", "host:443" (default none).
	AllowHosts []string `yaml:"allowHosts"`
	// Resolver maps request hosts to service names.
	Resolver Resolver `yaml:"resolver"`
}

// Resolver configures the destination resolver.
type Resolver struct {
	// StripSuffixes are cut from hosts (default none; e.g. ".mesh").
	StripSuffixes []string `yaml:"stripSuffixes"`
	// Aliases map hosts to services (default none).
	Aliases map[string]string `yaml:"aliases"`
}

// Ingress is the mesh → app listener.
type Ingress struct {
	// Listen address (default 0.0.0.0:15006).
	Listen string `yaml:"listen"`
	// Chain is the ordered inbound handler list (default ratelimit, fault, plugin, transport).
	Chain []string `yaml:"chain"`
}

// Discovery configures discovery mode: registry front-ends on localhost
// that answer with per-service loopback endpoints of this sidecar.
type Discovery struct {
	// Enabled turns discovery mode on (default false).
	Enabled bool `yaml:"enabled"`
	// FrontEnds are the registry front-ends' listen addresses by name,
	// each its own key (eureka:, consul:, nacos:), "" to leave one out
	// (defaults 127.0.0.1:8761, 127.0.0.1:8500, 127.0.0.1:8848: each
	// front-end's adapters/frontend DiscoveryListen).
	FrontEnds map[string]string `yaml:"-"`
	// LoopbackHost is the address service listeners bind (default 127.0.0.1).
	LoopbackHost string `yaml:"loopbackHost"`
	// FirstPort and LastPort bound the per-service listener ports (default 16001-16999).
	FirstPort int `yaml:"firstPort"`
	LastPort  int `yaml:"lastPort"`
}

// Admin is the admin listener.
type Admin struct {
	// Listen address (default 127.0.0.1:15000).
	Listen string `yaml:"listen"`
	// Pprof mounts /debug/pprof (default false).
	Pprof bool `yaml:"pprof"`
}

// HealthCheck probes the local app and marks its instance DOWN or UP.
type HealthCheck struct {
	// Kind is none, http or tcp (default none).
	Kind string `yaml:"kind"`
	// Port names the app port to probe (default the first).
	Port string `yaml:"port"`
	// Path for http checks (default /actuator/health).
	Path string `yaml:"path"`
	// ExpectStatus is the status an http check wants, 0 for any 2xx (default 0).
	ExpectStatus int `yaml:"expectStatus"`
	// ExpectBody must appear in the http response body (default none).
	ExpectBody string `yaml:"expectBody"`
	// Interval between checks (default 5s).
	Interval time.Duration `yaml:"interval"`
	// Timeout of one check (default 2s).
	Timeout time.Duration `yaml:"timeout"`
	// UnhealthyThreshold failures in a row mark the instance DOWN (default 3).
	UnhealthyThreshold int `yaml:"unhealthyThreshold"`
	// HealthyThreshold successes in a row mark it UP again (default 1).
	HealthyThreshold int `yaml:"healthyThreshold"`
}

// Routing holds table-wide settings.
type Routing struct {
	// MaxCanaries per service; rules beyond are ignored (default 5).
	MaxCanaries int `yaml:"maxCanaries"`
}

// Limits are the listeners' protections.
type Limits struct {
	// MaxRequestBody refuses requests declaring a larger body with 413, 0
	// for no limit; streamed bodies of unknown length are not limited (default 64 MiB).
	MaxRequestBody int64 `yaml:"maxRequestBody"`
	// MaxHeaderBytes bounds a request's header fields in bytes, counted
	// as HTTP/2 counts a header list: each field's name and value plus 32,
	// so it bounds their number too (2,048 at most with the default).
	// HTTP/1.1's request line may take 4 KiB beyond it, and HTTP/2 320
	// bytes, as in net/http; above it the answer is 431 (default 65536).
	MaxHeaderBytes int `yaml:"maxHeaderBytes"`
	// ReadHeaderTimeout bounds reading request headers (default 10s).
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	// ReadBodyTimeout bounds reading a request body of declared length
	// (Content-Length), from the end of its head to its last byte; a
	// caller that takes longer gets 408 and, on HTTP/1.1, its connection
	// closed. Bodies the sidecar buffers (retry, mirror, plugins) all have
	// a declared length. A body of unknown length (HTTP/1.1 chunked, an
	// HTTP/2 stream without Content-Length such as gRPC) is a stream, passed
	// on as it comes, and not bounded; nor are upgraded connections. 30s
	// is what Nacos allows; at the 64 MiB maxRequestBody it asks for
	// 2.2 MB/s, which links inside a mesh exceed (default 30s).
	ReadBodyTimeout time.Duration `yaml:"readBodyTimeout"`
	// IdleTimeout closes idle client connections (default 120s).
	IdleTimeout time.Duration `yaml:"idleTimeout"`
	// TunnelIdleTimeout closes an upgraded connection (WebSocket) or a
	// CONNECT tunnel after this long without a byte either way; 0 for
	// never: a tunnel then lives until one of its ends closes it, or the
	// drain timeout runs out (default 0).
	TunnelIdleTimeout time.Duration `yaml:"tunnelIdleTimeout"`
}

// Runtime tunes what the sidecar runs on: the Go runtime of the process,
// which the binary applies once at start (sidecar.ApplyRuntime; an
// environment variable of the same meaning, GOGC, GOMEMLIMIT, GOMAXPROCS,
// when set, wins), and the HTTP machinery of its listeners and upstream
// connections.
type Runtime struct {
	// GCPercent is GOGC: how far, in percent of the live heap, the heap
	// grows before the next collection; -1 turns the collector off (then
	// set memoryLimit). A proxy's live heap is small and its garbage is
	// per request, so at Go's 100 it collects many times a second under
	// load; 400 collects a quarter as often for about 10 MiB more memory,
	// which takes CPU off every request and collection pauses off the
	// tail (default 400).
	GCPercent int `yaml:"gcPercent"`
	// MemoryLimit is GOMEMLIMIT, a soft cap on the Go heap in bytes that
	// makes the collector work harder as it nears; 0 for none (default 0).
	MemoryLimit int64 `yaml:"memoryLimit"`
	// MaxProcs is GOMAXPROCS, the cores running Go code at once; 0 keeps
	// Go's choice: every core, or the container's CPU limit (default 0).
	MaxProcs int `yaml:"maxProcs"`
	// HTTP is what speaks HTTP on the data path: "own", the sidecar's
	// HTTP/1.1 server loop and client pool (package httpx), or "nethttp",
	// net/http's server and Transport in their place, which cost more CPU
	// per request; h2c is net/http's either way. The test suites run over
	// both, as a differential check; nethttp is also a fallback should
	// the own code misbehave (default "own").
	HTTP string `yaml:"http"`
}

// Values of Runtime.HTTP.
const (
	HTTPOwn     = "own"
	HTTPNetHTTP = "nethttp"
)

// DefaultEgressChain and DefaultIngressChain are the default handler orders.
var (
	DefaultEgressChain  = []string{"ratelimit", "fault", "mirror", "timeout", "router", "headers", "breaker", "retry", "outlier", "loadbalance", "plugin", "transport"}
	DefaultIngressChain = []string{"ratelimit", "fault", "plugin", "transport"}
)

// Default returns the configuration with every default set.
func Default() *Config {
	return &Config{
		Service: Service{
			Namespace: "public", Group: "DEFAULT_GROUP", Host: "127.0.0.1",
			Ports:         []Port{{Name: "rest", Port: 8080, Protocol: "http"}},
			AdvertiseHost: "127.0.0.1", LeaseRenewal: 10 * time.Second, LeaseDuration: 30 * time.Second,
		},
		Control: Control{Address: "http://127.0.0.1:8700", WatchWait: 30 * time.Second},
		Egress:  Egress{Listen: "127.0.0.1:15001", Chain: append([]string(nil), DefaultEgressChain...)},
		Ingress: Ingress{Listen: "0.0.0.0:15006", Chain: append([]string(nil), DefaultIngressChain...)},
		Discovery: Discovery{FrontEnds: discoveryDefaults(),
			LoopbackHost: "127.0.0.1", FirstPort: 16001, LastPort: 16999},
		Admin: Admin{Listen: "127.0.0.1:15000"},
		HealthCheck: HealthCheck{Kind: "none", Path: "/actuator/health", Interval: 5 * time.Second,
			Timeout: 2 * time.Second, UnhealthyThreshold: 3, HealthyThreshold: 1},
		Routing: Routing{MaxCanaries: 5},
		Limits: Limits{MaxRequestBody: 64 << 20, MaxHeaderBytes: 64 << 10, ReadHeaderTimeout: 10 * time.Second,
			ReadBodyTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second},
		Runtime:      Runtime{GCPercent: 400, HTTP: HTTPOwn},
		DrainTimeout: 20 * time.Second,
		Log:          logging.Config{Level: "info", Format: "text"},
		Handlers:     defaultHandlers(),
	}
}

// discoveryDefaults are the front-ends' addresses in discovery mode.
func discoveryDefaults() map[string]string {
	out := map[string]string{}
	for _, k := range frontend.Kinds() {
		out[k.Name] = k.DiscoveryListen
	}
	return out
}

func defaultHandlers() map[string]chain.Config {
	out := map[string]chain.Config{}
	for _, n := range chain.Names() {
		k, _ := chain.Lookup(n)
		out[n] = k.NewConfig()
	}
	return out
}
