package eureka

import (
	"errors"
	"log/slog"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Options configure a Server. Zero values take the defaults named beside
// each field.
type Options struct {
	// Namespace is the registry namespace this server shows and registers
	// into (default "public"). Instances of every group in it are shown.
	Namespace string
	// Username and Password, when Username is set, turn on HTTP basic
	// auth for every request (Spring users put them in the service URL:
	// http://user:pass@host:8761/eureka/). Default: no auth.
	Username string
	Password string
	// DeltaRetention is how long a change stays in /apps/delta (default
	// 3m, Eureka's retentionTimeInMSInDeltaQueue).
	DeltaRetention time.Duration
	// DisableDelta answers /apps/delta with 403, which makes clients fetch
	// the full registry every time (Eureka's disableDelta; default false).
	DisableDelta bool
	// MaxBodyBytes caps request bodies; larger ones get 413 (default 1 MiB).
	MaxBodyBytes int64
	// WriteVisibleWait is how long a write waits for the bulk view to
	// include it, so a client that registers and then fetches sees itself
	// (default 2s; the write has succeeded either way).
	WriteVisibleWait time.Duration
	// DrainTimeout bounds the graceful shutdown in Serve (default 10s).
	DrainTimeout time.Duration
	// Environment and Datacenter are shown on the status page (defaults
	// "test" and "default", as on Spring Cloud's Eureka server).
	Environment string
	Datacenter  string
	// Logger receives the server's logs (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (tests only; default time.Now).
	Now func() time.Time
}

// Validate checks the options and names the field that is wrong.
func (o *Options) Validate() error {
	var errs []error
	if o.Namespace != "" && !registry.ValidName(o.Namespace) {
		errs = append(errs, errors.New("eureka.namespace: "+registry.NameRule))
	}
	if o.Username == "" && o.Password != "" {
		errs = append(errs, errors.New("eureka.username: required when a password is set"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"deltaRetention", o.DeltaRetention}, {"writeVisibleWait", o.WriteVisibleWait}, {"drainTimeout", o.DrainTimeout}} {
		if d.v < 0 {
			errs = append(errs, errors.New("eureka."+d.name+": must not be negative"))
		}
	}
	if o.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("eureka.maxBodyBytes: must not be negative"))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.Namespace == "" {
		o.Namespace = registry.DefaultNamespace
	}
	if o.DeltaRetention == 0 {
		o.DeltaRetention = 3 * time.Minute
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.WriteVisibleWait == 0 {
		o.WriteVisibleWait = 2 * time.Second
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 10 * time.Second
	}
	if o.Environment == "" {
		o.Environment = "test"
	}
	if o.Datacenter == "" {
		o.Datacenter = "default"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
