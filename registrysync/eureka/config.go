package eureka

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
)

// Config is a Eureka registry entry of registrysync's configuration.
type Config struct {
	// URLs are the Eureka servers' service URLs, as Spring's
	// eureka.client.serviceUrl.defaultZone names them
	// ("http://eureka-1:8761/eureka"); each request goes to one picked at
	// random, as fargo does. Required, no default.
	URLs []string `yaml:"urls"`
	// Username and Password authenticate with HTTP basic auth (default
	// none). The password is sent with every request and never logged.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PollInterval is how often the source fetches the delta (default
	// 1s). A real Eureka server answers from a cache it refreshes every
	// 30s, so its changes reach the syncer up to 30s late whatever this is.
	PollInterval time.Duration `yaml:"pollInterval"`
	// FullFetchInterval is how often the source fetches the whole
	// registry even when the deltas reconcile, and sends it as a complete
	// listing (default 5m).
	FullFetchInterval time.Duration `yaml:"fullFetchInterval"`
	// DisableDelta makes the source fetch the whole registry every
	// PollInterval (default false; a server that answers the delta with
	// 403 gets full fetches anyway).
	DisableDelta bool `yaml:"disableDelta"`
	// Timeout bounds each request the source makes (default 10s); fargo's
	// own calls (register, renew, cancel) have its 30s bound.
	Timeout time.Duration `yaml:"timeout"`
	// RenewalInterval is how often the sink renews each copy's lease, and
	// the leaseInfo.renewalIntervalInSecs it registers (default 30s, whole
	// seconds, Eureka's).
	RenewalInterval time.Duration `yaml:"renewalInterval"`
	// LeaseDuration is the leaseInfo.durationInSecs of the copies: how long
	// Eureka keeps a copy nobody renews (default 90s, whole seconds, at
	// least twice RenewalInterval).
	LeaseDuration time.Duration `yaml:"leaseDuration"`
	// RenewalWorkers bounds the renewals in flight at once (default 8).
	RenewalWorkers int `yaml:"renewalWorkers"`
}

// NewConfig returns the configuration with every default filled in.
func NewConfig() *Config {
	return &Config{
		PollInterval:      time.Second,
		FullFetchInterval: 5 * time.Minute,
		Timeout:           10 * time.Second,
		RenewalInterval:   30 * time.Second,
		LeaseDuration:     90 * time.Second,
		RenewalWorkers:    8,
	}
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	var errs config.Errors
	errs.Add(len(c.URLs) == 0, "urls", "must name at least one Eureka service URL")
	for i, u := range c.URLs {
		p, err := url.Parse(u)
		bad := err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == ""
		errs.Add(bad, "urls["+strconv.Itoa(i)+"]", "must be an http or https URL such as http://eureka:8761/eureka, got %q", redact(u))
		errs.Add(!bad && p.User != nil, "urls["+strconv.Itoa(i)+"]", "must not carry credentials: set username and password")
		errs.Add(!bad && (p.RawQuery != "" || p.Fragment != ""), "urls["+strconv.Itoa(i)+"]", "must not have a query or fragment")
	}
	errs.Add(c.Username == "" && c.Password != "", "username", "required when a password is set")
	errs.Add(c.PollInterval <= 0, "pollInterval", "must be positive")
	errs.Add(c.FullFetchInterval < c.PollInterval, "fullFetchInterval", "must be at least pollInterval")
	errs.Add(c.Timeout <= 0, "timeout", "must be positive")
	errs.Add(c.RenewalInterval < time.Second || c.RenewalInterval%time.Second != 0, "renewalInterval", "must be whole seconds, at least 1s (Eureka counts leases in seconds)")
	errs.Add(c.LeaseDuration%time.Second != 0 || c.LeaseDuration < 2*c.RenewalInterval, "leaseDuration", "must be whole seconds, at least twice renewalInterval")
	errs.Add(c.RenewalWorkers < 1, "renewalWorkers", "must be at least 1")
	return errs.Err()
}

// serviceURLs are the URLs fargo and the source use: without a trailing
// slash (fargo joins "apps" with one) and with the credentials in.
func (c *Config) serviceURLs() []string {
	out := make([]string, len(c.URLs))
	for i, raw := range c.URLs {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil { // Validate refused it already
			continue
		}
		if c.Username != "" {
			u.User = url.UserPassword(c.Username, c.Password)
		}
		out[i] = u.String()
	}
	return out
}

// redact hides the password of a URL that carries one.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return raw
}
