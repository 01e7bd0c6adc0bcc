package v2

import (
	"errors"
	"log/slog"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos/auth"
	"github.com/meshbridge/meshbridge/adapters/nacos/config"
	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// Options configure the gRPC server. Zero durations take the defaults
// named beside each field.
type Options struct {
	Store registry.Discovery
	// Auth checks tokens when enabled; nil means auth is off.
	Auth *auth.Authenticator
	// Configs and ConfigHub serve the config requests; ConfigHub must be running.
	Configs   *config.Store
	ConfigHub *config.Hub
	// Clock stamps lastRefTime; shared with the HTTP API so stamps never go back.
	Clock  *naming.Clock
	Logger *slog.Logger

	// MaxMessageBytes caps one received message (default 10 MiB, Nacos's
	// nacos.remote.server.grpc.sdk.max-inbound-message-size).
	MaxMessageBytes int
	// MaxHeaderBytes caps a call's header list (HTTP/2 headers and gRPC
	// metadata); larger calls are refused before any handler runs (default
	// serve.DefaultHeaderBytes, 64 KiB; gRPC's own is 16 MiB). Nacos
	// clients send their token and request headers inside the message,
	// so real header lists stay far below it.
	MaxHeaderBytes int
	// ConnectionLease is the registry lease of connection-bound instances,
	// renewed every third of it while the connection lives (default 30s).
	// If this process dies, its instances expire after it.
	ConnectionLease time.Duration
	// KeepAlive is how long a connection may stay silent before it is
	// probed with a ClientDetectionRequest (default 20s, Nacos's ejector).
	KeepAlive time.Duration
	// ProbeTimeout is how long a probed connection has to answer before it
	// is closed and its instances removed (default 5s).
	ProbeTimeout time.Duration
	// AckTimeout is how long a push waits for its acknowledgement before
	// it is sent again (default 3s), at most PushRetries times (default 3).
	AckTimeout  time.Duration
	PushRetries int
	// DrainTimeout bounds the graceful stop (default 10s).
	DrainTimeout time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.Store == nil {
		return o, errors.New("nacos grpc: store is required")
	}
	if o.Configs == nil || o.ConfigHub == nil {
		return o, errors.New("nacos grpc: config store and hub are required")
	}
	if o.Clock == nil {
		o.Clock = &naming.Clock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 10 << 20
	}
	o.MaxHeaderBytes = serve.Limits{HeaderBytes: o.MaxHeaderBytes}.WithDefaults().HeaderBytes
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ConnectionLease, 30*time.Second)
	def(&o.KeepAlive, 20*time.Second)
	def(&o.ProbeTimeout, 5*time.Second)
	def(&o.AckTimeout, 3*time.Second)
	def(&o.DrainTimeout, 10*time.Second)
	if o.PushRetries <= 0 {
		o.PushRetries = 3
	}
	return o, nil
}

// tick is the period of the maintenance loop: fine enough for the
// shortest of the configured timeouts.
func (o Options) tick() time.Duration {
	return max(20*time.Millisecond, min(o.ConnectionLease/3, o.KeepAlive/4, o.ProbeTimeout/2, o.AckTimeout/2, time.Second))
}
