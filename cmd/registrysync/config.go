package main

import (
	"fmt"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// Config is registrysync's configuration; configs/registrysync.yaml
// documents every key with its default.
type Config struct {
	// SyncConfig holds id, registries, pairs and engine.
	registrysync.SyncConfig `yaml:",inline"`
	Admin                   AdminConfig    `yaml:"admin"`
	Election                ElectionConfig `yaml:"election"`
	Drain                   DrainConfig    `yaml:"drain"`
	// Plugins are out-of-process plugins; a pair's transformers name
	// instance transformers among them (default none).
	Plugins []host.Config  `yaml:"plugins"`
	Log     logging.Config `yaml:"log"`
	// DryRun prints the plan and exits (--dry-run only).
	DryRun bool `yaml:"-"`
	// ReleaseBreaker releases the running syncer's breakers and exits
	// (--release-breaker only): the operator's way in where only the
	// syncer's host (its container) reaches its loopback.
	ReleaseBreaker bool `yaml:"-"`
}

// AdminConfig is the admin listener.
type AdminConfig struct {
	// Listen is the address of /status, /metrics, /healthz and POST
	// /breaker/release (answered on loopback only) (default :8710).
	Listen string `yaml:"listen"`
}

// ElectionConfig elects the replica that writes when several run.
type ElectionConfig struct {
	// Registry names the registry of type mesh whose control API holds
	// the election (registry-adapter's elections, over the mesh store);
	// "" runs without one: this process writes alone (default "").
	Registry string `yaml:"registry"`
	// Name is the election's name; replicas of one syncer share it
	// (default registrysync-<id>).
	Name string `yaml:"name"`
	// TTL is how long a replica that stopped campaigning (kill -9) keeps
	// the lead: the other takes over within it (default 15s, 1s to 5m).
	TTL time.Duration `yaml:"ttl"`
}

// DrainConfig says what a stop does.
type DrainConfig struct {
	// RemoveCopies makes a writing replica that stops delete its copies;
	// off, they are left for a peer to take over or to die as their
	// registry lets them (lease, TTL, session). Turn it on only for a
	// syncer that stops for good without a peer (default false).
	RemoveCopies bool `yaml:"removeCopies"`
	// Timeout bounds the stop after SIGTERM (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultConfig is the configuration with every default.
func DefaultConfig() *Config {
	return &Config{
		SyncConfig: registrysync.SyncConfig{Engine: registrysync.DefaultEngineConfig()},
		Admin:      AdminConfig{Listen: ":8710"},
		Election:   ElectionConfig{TTL: 15 * time.Second},
		Drain:      DrainConfig{Timeout: 30 * time.Second},
		Log:        logging.Config{Level: "info", Format: "text"},
	}
}

// electionName is the election's name, defaulted.
func (c *Config) electionName() string {
	if c.Election.Name != "" {
		return c.Election.Name
	}
	return "registrysync-" + c.ID
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	var errs config.Errors
	if err := c.SyncConfig.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	errs.Add(c.Drain.Timeout <= 0, "drain.timeout", "must be positive")
	if r := c.Election.Registry; r != "" {
		found := false
		for _, reg := range c.Registries {
			if reg.Name == r {
				found = true
				errs.Add(reg.Type != "mesh", "election.registry", "%q is of type %s; the election is held by a registry of type mesh", r, reg.Type)
			}
		}
		errs.Add(!found, "election.registry", "no registry is named %q", r)
	}
	errs.Add(c.Election.TTL < control.MinElectionTTL || c.Election.TTL > control.MaxElectionTTL, "election.ttl", "must be between 1s and 5m")
	if c.Election.Name != "" || c.ID != "" {
		errs.Add(!registry.ValidName(c.electionName()), "election.name", "must be a name without '/' or control characters")
	}
	if err := host.ValidateAll(c.Plugins); err != nil {
		errs = append(errs, err.Error())
	}
	plugins := map[string]bool{}
	for _, p := range c.Plugins {
		plugins[p.Name] = true
	}
	for i, p := range c.Pairs {
		for j, name := range p.Transformers {
			errs.Add(name != "" && !plugins[name], fmt.Sprintf("pairs[%d].transformers[%d]", i, j), "no plugin named %q is configured", name)
		}
	}
	return errs.Err()
}
