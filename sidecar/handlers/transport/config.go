package transport

import (
	"errors"
	"fmt"
	"time"
)

// Config configures the transport handler.
type Config struct {
	// Kind is the upstream implementation (default "plain").
	Kind string `yaml:"kind"`
	// DialTimeout bounds connecting to an endpoint (default 2s).
	DialTimeout time.Duration `yaml:"dialTimeout"`
	// MaxIdleConnsPerHost is the keep-alive pool size per endpoint (default 256).
	MaxIdleConnsPerHost int `yaml:"maxIdleConnsPerHost"`
	// MaxConnsPerHost caps the connections per endpoint, idle, in use and
	// being dialled; a request that finds the cap reached waits, within
	// its deadline, for one to come back or close; 0 for no cap (default 0).
	MaxConnsPerHost int `yaml:"maxConnsPerHost"`
	// IdleConnTimeout closes pooled connections idle this long (default 90s).
	IdleConnTimeout time.Duration `yaml:"idleConnTimeout"`
	// BufferSize is the read and write buffer per connection in bytes (default 16384).
	BufferSize int `yaml:"bufferSize"`
	// H2CRetryAfter is how long an endpoint found not to speak HTTP/2
	// with prior knowledge (it answered the preface in HTTP/1, or closed
	// the connection) is remembered: meanwhile HTTP/2 callers reach it
	// over HTTP/1.1 and gRPC calls to it fail at once with UNAVAILABLE;
	// then h2c is tried again (default 1m).
	H2CRetryAfter time.Duration `yaml:"h2cRetryAfter"`

	// NetHTTP sends HTTP/1.1 through net/http's Transport instead of the
	// sidecar's own client: the sidecar sets it from runtime.http
	// (nethttp); it is not a key of this handler's.
	NetHTTP bool `yaml:"-"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{Kind: "plain", DialTimeout: 2 * time.Second, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
		BufferSize: 16 << 10, H2CRetryAfter: time.Minute}
}

// Validate implements chain.Config.
func (c *Config) Validate() error {
	var errs []error
	if _, ok := lookupUpstream(c.Kind); !ok {
		errs = append(errs, errUnknownKind(c.Kind))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, errors.New("dialTimeout: must be > 0"))
	}
	if c.MaxIdleConnsPerHost < 0 || c.MaxConnsPerHost < 0 {
		errs = append(errs, errors.New("maxIdleConnsPerHost, maxConnsPerHost: must be >= 0"))
	}
	if c.IdleConnTimeout <= 0 {
		errs = append(errs, errors.New("idleConnTimeout: must be > 0"))
	}
	if c.H2CRetryAfter <= 0 {
		errs = append(errs, errors.New("h2cRetryAfter: must be > 0"))
	}
	if c.BufferSize < 1024 || c.BufferSize > 1<<20 {
		errs = append(errs, fmt.Errorf("bufferSize: must be 1024-1048576, got %d", c.BufferSize))
	}
	return errors.Join(errs...)
}
