package proxy

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// EgressOptions configure the egress listener's handler.
type EgressOptions struct {
	Tables   *table.Holder
	Chain    chain.Next
	Resolver Resolver
	// Allow lists the hosts outside the mesh the app may reach: by CONNECT
	// tunnel, or by plain HTTP when the host is no mesh service.
	Allow HostPatterns
	// Direct sends a passthrough exchange (Endpoint set to the host) as is;
	// usually the transport handler.
	Direct      chain.Next
	DialTimeout time.Duration
	MaxBody     int64
	Metrics     *metrics.Set
	Logger      *slog.Logger
}

// Egress is the app → mesh handler.
type Egress struct {
	opts      EgressOptions
	rn        runner
	tlsWarned everyMinute // TLS through a tunnel to a mesh service
}

// NewEgress builds the egress handler.
func NewEgress(opts EgressOptions) *Egress {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Resolver == nil {
		opts.Resolver = &NameResolver{}
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 2 * time.Second
	}
	lg := opts.Logger.With("component", "sidecar.egress")
	return &Egress{opts: opts, rn: newRunner(chain.Outbound, opts.Chain, opts.Metrics, lg, opts.MaxBody)}
}

var errUnknownService = errors.New("host is not a mesh service and not in egress.allowHosts")

// ServeHTTP routes by the request's host: the absolute-form URL's host in
// proxy mode, else the Host header.
func (e *Egress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		e.connect(w, r)
		return
	}
	host := r.Host
	if r.URL.IsAbs() && r.URL.Host != "" {
		host = r.URL.Host
	}
	tbl := e.opts.Tables.Load()
	name, ok := e.opts.Resolver.Resolve(host)
	var svc *table.Service
	if ok {
		svc = tbl.Service(name)
	}
	if svc == nil && e.opts.Allow.Allow(hostWithPort(host)) {
		e.passthrough(w, r, tbl, hostWithPort(host))
		return
	}
	e.serve(w, r, tbl, svc, name)
}

// ForService returns a handler that sends everything to one service,
// whatever the Host header says: the per-service loopback listeners of
// discovery mode use it.
func (e *Egress) ForService(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tbl := e.opts.Tables.Load()
		e.serve(w, r, tbl, tbl.Service(name), name)
	})
}

func (e *Egress) serve(w http.ResponseWriter, r *http.Request, tbl *table.Table, svc *table.Service, name string) {
	ex := newExchange(r, chain.Outbound, tbl)
	if svc == nil {
		e.rn.fail(w, ex, name, &chain.Error{Status: http.StatusServiceUnavailable, Reason: chain.ReasonUnknownService, Err: errUnknownService})
		return
	}
	ex.Service = svc
	e.rn.run(w, ex, svc.Key)
}

// passthrough forwards a plain HTTP request to a host outside the mesh.
func (e *Egress) passthrough(w http.ResponseWriter, r *http.Request, tbl *table.Table, hostport string) {
	ex := newExchange(r, chain.Outbound, tbl)
	ex.Endpoint = &table.Endpoint{ID: hostport, Address: hostport, Stats: &table.Stats{}}
	rn := e.rn
	rn.next = e.opts.Direct
	rn.run(w, ex, "external")
}

func hostWithPort(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(host, "80")
}
