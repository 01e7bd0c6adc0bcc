package embedded

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure an embedded store. Zero values take the defaults named
// beside each field.
type Options struct {
	// Dir holds the write-ahead log and snapshots; required.
	Dir string
	// History is how many recent events are kept for watches that resume
	// (default 16384).
	History int
	// SnapshotBytes is the log size that triggers a snapshot and a fresh
	// log (default 64 MiB).
	SnapshotBytes int64
	Expiry        ExpiryOptions
	// Logger receives warnings (self-preservation, torn log tails); default slog.Default().
	Logger *slog.Logger
	// Metrics, when set, receives the store's Prometheus metrics.
	Metrics prometheus.Registerer
	// Now is the clock (tests only); default time.Now.
	Now func() time.Time
}

// ExpiryOptions configure lease expiry.
type ExpiryOptions struct {
	// Disabled turns expiry off (instances live until deregistered).
	Disabled bool
	// Interval between expiry passes (default 5s).
	Interval time.Duration
	// StartupGrace is how long after start nothing expires, so clients
	// have time to renew after a restart (default 90s, Eureka's lease duration).
	StartupGrace time.Duration
	// SelfPreservationThreshold: when more than this share of leased
	// instances would expire in one pass, expiry pauses (default 0.15; a
	// negative value disables self-preservation).
	SelfPreservationThreshold float64
	// SelfPreservationMinLeases: below this many leased instances
	// self-preservation never engages, so a small registry still expires its
	// dead instances (default 10).
	SelfPreservationMinLeases int
}

func (o *Options) withDefaults() (Options, error) {
	c := *o
	if c.Dir == "" {
		return c, errors.New("embedded: data directory is required")
	}
	if c.History <= 0 {
		c.History = 16384
	}
	if c.SnapshotBytes <= 0 {
		c.SnapshotBytes = 64 << 20
	}
	if c.Expiry.Interval <= 0 {
		c.Expiry.Interval = 5 * time.Second
	}
	if c.Expiry.StartupGrace == 0 {
		c.Expiry.StartupGrace = 90 * time.Second
	}
	if c.Expiry.SelfPreservationThreshold == 0 {
		c.Expiry.SelfPreservationThreshold = 0.15
	}
	if c.Expiry.SelfPreservationMinLeases <= 0 {
		c.Expiry.SelfPreservationMinLeases = 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
