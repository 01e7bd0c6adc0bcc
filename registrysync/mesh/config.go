package mesh

import (
	"net/url"
	"strconv"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/registry"
)

// Config is a mesh registry entry's keys besides name and type.
type Config struct {
	// URL is the control API's base URL (default http://127.0.0.1:8700).
	URL string `yaml:"url"`
	// Token is sent on writes (default none; never printed). When empty,
	// MESHBRIDGE_CONTROL_TOKEN, else the contents of TokenFile, is used.
	Token string `yaml:"token"`
	// TokenFile is read for the token when neither Token nor
	// MESHBRIDGE_CONTROL_TOKEN sets it (default none).
	TokenFile string `yaml:"tokenFile"`
	// Namespaces limits what the source reports to these namespaces
	// (default every namespace).
	Namespaces []string `yaml:"namespaces"`
	// LeaseDuration is how long a copy outlives its last renewal: the
	// store expires it then, so a copy dies with its syncer (default 90s).
	LeaseDuration time.Duration `yaml:"leaseDuration"`
	// RenewInterval is how often the sink renews every copy it keeps
	// (default 30s).
	RenewInterval time.Duration `yaml:"renewInterval"`
	// RenewConcurrency bounds the renewals in flight (default 8).
	RenewConcurrency int `yaml:"renewConcurrency"`
	// WatchWait is how long one watch long-poll waits for changes
	// (default 30s).
	WatchWait time.Duration `yaml:"watchWait"`
	// RetryMaxBackoff caps the wait before the source tries the control
	// API again after a failure; it starts at 100ms and doubles (default
	// 2s).
	RetryMaxBackoff time.Duration `yaml:"retryMaxBackoff"`
}

// NewConfig returns the configuration with every default.
func NewConfig() *Config {
	return &Config{
		URL:           "http://127.0.0.1:8700",
		LeaseDuration: 90 * time.Second, RenewInterval: 30 * time.Second, RenewConcurrency: 8,
		WatchWait: 30 * time.Second, RetryMaxBackoff: 2 * time.Second,
	}
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	var errs config.Errors
	u, err := url.Parse(c.URL)
	errs.Add(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "", "url", "must be http(s)://host:port, got %q", c.URL)
	for i, ns := range c.Namespaces {
		errs.Add(!registry.ValidName(ns), "namespaces["+strconv.Itoa(i)+"]", "%s", registry.NameRule)
	}
	errs.Add(c.RenewInterval <= 0, "renewInterval", "must be positive")
	errs.Add(c.LeaseDuration < 2*c.RenewInterval, "leaseDuration", "must be at least twice renewInterval, so one late renewal does not expire a copy")
	errs.Add(c.RenewConcurrency < 1, "renewConcurrency", "must be at least 1")
	errs.Add(c.WatchWait < time.Second || c.WatchWait > 5*time.Minute, "watchWait", "must be between 1s and 5m")
	errs.Add(c.RetryMaxBackoff < 100*time.Millisecond, "retryMaxBackoff", "must be at least 100ms")
	return errs.Err()
}
