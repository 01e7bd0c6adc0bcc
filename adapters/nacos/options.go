package nacos

import (
	"errors"
	"log/slog"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos/auth"
	"github.com/meshbridge/meshbridge/adapters/nacos/v1"
	"github.com/meshbridge/meshbridge/adapters/nacos/v2"
)

// DefaultGRPCPortOffset is where Nacos 2.x clients look for the gRPC port:
// the HTTP port + 1000.
const DefaultGRPCPortOffset = 1000

// Options configure the adapter. Zero values take the defaults named in
// the sub-option types.
type Options struct {
	Logger *slog.Logger
	// Auth turns on Nacos login and access tokens; off by default. When
	// enabled a secret must be configured: there is no default.
	Auth auth.Options
	// HTTP tunes the v1 API (body limit, timeouts, heartbeat expiry).
	HTTP v1.Options
	// GRPC tunes the v2 server (message and header limits, connection lease, keep-alive).
	GRPC GRPCOptions
}

// GRPCOptions are the v2 knobs a deployment may change; see v2.Options.
type GRPCOptions struct {
	MaxMessageBytes int
	MaxHeaderBytes  int
	ConnectionLease time.Duration
	KeepAlive       time.Duration
	ProbeTimeout    time.Duration
	AckTimeout      time.Duration
	PushRetries     int
	DrainTimeout    time.Duration
}

func (g GRPCOptions) apply(o *v2.Options) {
	o.MaxMessageBytes = g.MaxMessageBytes
	o.MaxHeaderBytes = g.MaxHeaderBytes
	o.ConnectionLease = g.ConnectionLease
	o.KeepAlive = g.KeepAlive
	o.ProbeTimeout = g.ProbeTimeout
	o.AckTimeout = g.AckTimeout
	o.PushRetries = g.PushRetries
	o.DrainTimeout = g.DrainTimeout
}

// Validate names the first wrong field.
func (o *Options) Validate() error {
	if err := o.Auth.Validate(); err != nil {
		return err
	}
	g := o.GRPC
	if g.MaxMessageBytes < 0 || g.MaxHeaderBytes < 0 || g.ConnectionLease < 0 || g.KeepAlive < 0 || g.ProbeTimeout < 0 ||
		g.AckTimeout < 0 || g.PushRetries < 0 || g.DrainTimeout < 0 {
		return errors.New("grpc: limits and durations must not be negative")
	}
	return o.HTTP.Validate()
}
