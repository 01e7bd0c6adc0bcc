package v1

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

// Options configure the HTTP API. Zero values take the defaults named
// beside each field. The wiring fields (Store ... Logger) are set by the
// nacos package.
type Options struct {
	Store     registry.Discovery  `json:"-"`
	Auth      *auth.Authenticator `json:"-"`
	Configs   *config.Store       `json:"-"`
	ConfigHub *config.Hub         `json:"-"`
	Clock     *naming.Clock       `json:"-"`
	Logger    *slog.Logger        `json:"-"`

	// MaxBodyBytes caps a request body; larger ones get 413 (default
	// 10 MiB, the largest config content Nacos takes).
	MaxBodyBytes int64
	// MaxPreAuthBodyBytes, with auth on, caps what is read of a form body
	// to find its accessToken when the request carries no token in its
	// query string or headers (nacos-sdk-go's POSTs and PUTs, the 1.x Java
	// config client's): the token must lie within it, and a body read to
	// its limit without one is refused with 403. Login bodies may not be
	// larger (413). Default 1 MiB: room for the Listening-Configs of a Java
	// 1.x config client's 3,000 configs, which it sends before the token.
	// A token in the query string or a header is checked before any body
	// byte is read.
	MaxPreAuthBodyBytes int64
	// Timeouts and Limits bound the listener Serve runs: header and body
	// read times, idle connections, header size (zero values: serve's
	// defaults, 10s, 30s, 2m and 64 KiB). Their Shutdown is not used:
	// DrainTimeout is. Writes are bounded by LongPollMax + 10s.
	Timeouts serve.Timeouts
	Limits   serve.Limits
	// DrainTimeout bounds the graceful shutdown (default 10s).
	DrainTimeout time.Duration
	// LongPollMax caps how long a config listener is held (default 30s,
	// the Long-Pulling-Timeout clients send).
	LongPollMax time.Duration
	// BeatInterval, BeatTimeout and DeleteTimeout are the heartbeat
	// defaults of v1 ephemeral instances (5s, 15s, 30s); instances may
	// override them with the preserved.* metadata keys.
	BeatInterval  time.Duration
	BeatTimeout   time.Duration
	DeleteTimeout time.Duration
	// BeatCheckInterval is how often missed beats are looked for (default 1s).
	BeatCheckInterval time.Duration
}

// Validate names the first wrong field.
func (o *Options) Validate() error {
	for _, d := range []time.Duration{o.DrainTimeout,
		o.LongPollMax, o.BeatInterval, o.BeatTimeout, o.DeleteTimeout, o.BeatCheckInterval} {
		if d < 0 {
			return errors.New("http: durations must not be negative")
		}
	}
	if o.MaxBodyBytes < 0 {
		return errors.New("http.maxBodyBytes: must not be negative")
	}
	if o.MaxPreAuthBodyBytes < 0 {
		return errors.New("http.maxPreAuthBodyBytes: must not be negative")
	}
	if o.BeatTimeout > 0 && o.DeleteTimeout > 0 && o.DeleteTimeout < o.BeatTimeout {
		return errors.New("http.deleteTimeout: must not be shorter than beatTimeout")
	}
	return nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Store == nil || o.Configs == nil || o.ConfigHub == nil {
		return o, errors.New("nacos http: store, config store and hub are required")
	}
	if err := o.Validate(); err != nil {
		return o, err
	}
	if o.Clock == nil {
		o.Clock = &naming.Clock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.MaxPreAuthBodyBytes == 0 {
		o.MaxPreAuthBodyBytes = 1 << 20
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DrainTimeout, 10*time.Second)
	def(&o.LongPollMax, 30*time.Second)
	def(&o.BeatInterval, naming.DefaultBeatInterval*time.Millisecond)
	def(&o.BeatTimeout, naming.DefaultBeatTimeout*time.Millisecond)
	def(&o.DeleteTimeout, naming.DefaultDeleteTimeout*time.Millisecond)
	def(&o.BeatCheckInterval, time.Second)
	return o, nil
}
