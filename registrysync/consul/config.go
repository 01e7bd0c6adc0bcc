package consul

import (
	"net"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/registry"
)

// How copies of instances that must not be selected (DOWN, STARTING,
// OUT_OF_SERVICE or UNKNOWN at their source, disabled, or failing their
// checks) are carried; see Config.DownAs.
const (
	// DownAbsent withholds the copy: it is not in Consul while its
	// instance cannot be selected.
	DownAbsent = "absent"
	// DownMaintenance keeps the copy registered in maintenance mode: a
	// critical _service_maintenance check.
	DownMaintenance = "maintenance"
)

// Config is a Consul registry entry of registrysync's configuration.
type Config struct {
	// Address is the Consul agent's HTTP address, host:port (default
	// 127.0.0.1:8500). Copies are services of this agent: every replica
	// of a syncer must use the same one, or a takeover cannot renew them.
	Address string `yaml:"address"`
	// Scheme is http or https (default http).
	Scheme string `yaml:"scheme"`
	// Token is the ACL token, sent in X-Consul-Token (default none; never
	// logged).
	Token string `yaml:"token"`
	// Datacenter is the datacenter the source lists (default: the
	// agent's). Copies land in the agent's datacenter: the sink refuses
	// to write when this names another one.
	Datacenter string `yaml:"datacenter"`
	// Wait is how long a blocking query waits for a change (default 5m,
	// at most 10m, Consul's bounds).
	Wait time.Duration `yaml:"wait"`
	// Timeout bounds every request that does not block, and is added to
	// Wait for those that do (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// ListWorkers bounds the services listed at once in a complete
	// listing (default 16).
	ListWorkers int `yaml:"listWorkers"`
	// TTL is the TTL of each copy's check; the sink passes it every TTL/3
	// (default 30s).
	TTL time.Duration `yaml:"ttl"`
	// DeregisterAfter is the copies' DeregisterCriticalServiceAfter: how
	// long after its TTL lapsed (its syncer gone) Consul removes a copy
	// (default 90s; Consul raises values below 1m to 1m).
	DeregisterAfter time.Duration `yaml:"deregisterAfter"`
	// DownAs says how a copy of an instance that must not be selected is
	// carried: "absent" (default) or "maintenance". See README.md.
	DownAs string `yaml:"downAs"`
	// RenewalWorkers bounds the TTL updates in flight at once (default 8).
	RenewalWorkers int `yaml:"renewalWorkers"`
}

// NewConfig returns the configuration with every default filled in.
func NewConfig() *Config {
	return &Config{
		Address:         "127.0.0.1:8500",
		Scheme:          "http",
		Wait:            5 * time.Minute,
		Timeout:         10 * time.Second,
		ListWorkers:     16,
		TTL:             30 * time.Second,
		DeregisterAfter: 90 * time.Second,
		DownAs:          DownAbsent,
		RenewalWorkers:  8,
	}
}

// maxWait is the longest blocking wait Consul honours.
const maxWait = 10 * time.Minute

// Validate names every wrong field.
func (c *Config) Validate() error {
	var errs config.Errors
	_, port, err := net.SplitHostPort(c.Address)
	errs.Add(err != nil || port == "", "address", "must be host:port, got %q", c.Address)
	errs.Add(c.Scheme != "http" && c.Scheme != "https", "scheme", "must be http or https, got %q", c.Scheme)
	errs.Add(c.Datacenter != "" && !registry.ValidName(c.Datacenter), "datacenter", "%s", registry.NameRule)
	errs.Add(c.Wait < time.Second || c.Wait > maxWait, "wait", "must be between 1s and 10m")
	errs.Add(c.Timeout <= 0, "timeout", "must be positive")
	errs.Add(c.ListWorkers < 1, "listWorkers", "must be at least 1")
	errs.Add(c.TTL < time.Second, "ttl", "must be at least 1s")
	errs.Add(c.DeregisterAfter <= 0, "deregisterAfter", "must be positive: copies whose syncer is gone must be removed")
	errs.Add(c.DownAs != DownAbsent && c.DownAs != DownMaintenance, "downAs", "must be %q or %q, got %q", DownAbsent, DownMaintenance, c.DownAs)
	errs.Add(c.RenewalWorkers < 1, "renewalWorkers", "must be at least 1")
	return errs.Err()
}

// renewEvery is how often a copy's TTL check is passed: three times a
// TTL, so that two lost updates in a row do not let it lapse.
func (c *Config) renewEvery() time.Duration { return c.TTL / 3 }
