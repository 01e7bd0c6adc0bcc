package proxy

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Port protocols of the local app.
const (
	ProtocolHTTP  = "http"  // speak to the app as the caller spoke (HTTP/1.1 or h2c)
	ProtocolHTTP1 = "http1" // always HTTP/1.1
	ProtocolH2C   = "h2c"   // always HTTP/2 with prior knowledge
	ProtocolGRPC  = "grpc"  // h2c, and where gRPC requests go
)

// AppPort is one port of the local app.
type AppPort struct {
	Name     string
	Port     int
	Protocol string
	Address  string // host:port
}

// IngressOptions configure the ingress handler.
type IngressOptions struct {
	Tables *table.Holder
	Chain  chain.Next
	// Service is the local app's service name.
	Service string
	// Ports are the app's ports; the first is the default, gRPC requests go
	// to the first grpc port when there is one.
	Ports   []AppPort
	MaxBody int64
	Metrics *metrics.Set
	Logger  *slog.Logger
}

// Ingress is the mesh → app handler.
type Ingress struct {
	opts    IngressOptions
	rn      runner
	primary *table.Endpoint
	grpc    *table.Endpoint
	ports   []AppPort
}

// NewIngress builds the ingress handler.
func NewIngress(opts IngressOptions) *Ingress {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	in := &Ingress{opts: opts, rn: newRunner(chain.Inbound, opts.Chain, opts.Metrics,
		opts.Logger.With("component", "sidecar.ingress"), opts.MaxBody), ports: opts.Ports}
	for i, p := range opts.Ports {
		ep := &table.Endpoint{ID: p.Name, Address: p.Address, Protocol: p.Protocol, Stats: &table.Stats{}}
		if i == 0 {
			in.primary = ep
		}
		if p.Protocol == ProtocolGRPC && in.grpc == nil {
			in.grpc = ep
		}
	}
	return in
}

// ServeHTTP forwards to the local app through the inbound chain.
func (in *Ingress) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tbl := in.opts.Tables.Load()
	ex := newExchange(r, chain.Inbound, tbl)
	ex.Service = tbl.Service(in.opts.Service)
	ep := in.primary
	if in.grpc != nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		ep = in.grpc
	}
	ex.Endpoint = ep
	switch {
	case ex.Upgrade != "", ep.Protocol == ProtocolHTTP1:
		// An upgrade is an HTTP/1.1 affair whatever the port speaks
		// otherwise (WebSocket over HTTP/2 is not supported).
		ex.HTTP2 = false
	case ep.Protocol == ProtocolH2C, ep.Protocol == ProtocolGRPC:
		ex.HTTP2 = true
	}
	in.rn.run(w, ex, in.opts.Service)
}
