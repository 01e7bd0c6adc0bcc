package main

import (
	"time"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/plugins/host"
)

// Config is the registry-adapter configuration; configs/registry-adapter.yaml
// documents every key with its default.
type Config struct {
	Store   StoreConfig    `yaml:"store"`
	Control ControlConfig  `yaml:"control"`
	HTTP    HTTPConfig     `yaml:"http"`
	Log     logging.Config `yaml:"log"`
	// Plugins are out-of-process plugins; every instance-transformer plugin
	// runs on every registration, whichever API it came through (default none).
	Plugins []host.Config `yaml:"plugins"`
	// FrontEnds holds each registry front-end's section by its name
	// (eureka:, consul:, nacos:, top-level keys of the file), each on its
	// package's defaults (adapters/frontend).
	FrontEnds map[string]frontend.Config `yaml:"-"`
}

// StoreConfig chooses and configures the registry backend.
type StoreConfig struct {
	// Type is embedded (default) or etcd.
	Type     string         `yaml:"type"`
	Embedded EmbeddedConfig `yaml:"embedded"`
	Etcd     EtcdConfig     `yaml:"etcd"`
	// History is how many recent events are kept for watches (default 16384).
	History int          `yaml:"history"`
	Expiry  ExpiryConfig `yaml:"expiry"`
}

// EmbeddedConfig configures the embedded store.
type EmbeddedConfig struct {
	// Dir holds the write-ahead log and snapshots (default ./data).
	Dir string `yaml:"dir"`
	// SnapshotBytes is the log size that triggers a snapshot (default 64 MiB).
	SnapshotBytes int64 `yaml:"snapshotBytes"`
}

// EtcdConfig configures the etcd store.
type EtcdConfig struct {
	Endpoints []string `yaml:"endpoints"`
	// Prefix under which meshbridge keeps its keys (default /meshbridge/).
	Prefix      string        `yaml:"prefix"`
	DialTimeout time.Duration `yaml:"dialTimeout"`
	Username    string        `yaml:"username"`
	Password    string        `yaml:"password"`
	// SessionTTL bounds how long a crashed replica keeps leading work that
	// runs on one replica only (the Consul check runner); whole seconds, at
	// least 1s (default 10s).
	SessionTTL time.Duration `yaml:"sessionTTL"`
}

// ExpiryConfig configures lease expiry (embedded store).
type ExpiryConfig struct {
	Enabled                   bool          `yaml:"enabled"`
	Interval                  time.Duration `yaml:"interval"`
	StartupGrace              time.Duration `yaml:"startupGrace"`
	SelfPreservationThreshold float64       `yaml:"selfPreservationThreshold"`
	SelfPreservationMinLeases int           `yaml:"selfPreservationMinLeases"`
}

// ControlConfig configures the native control API.
type ControlConfig struct {
	// Listen address (default :8700; empty disables).
	Listen string `yaml:"listen"`
	// Token required on writes (default none; never printed). When empty,
	// MESHBRIDGE_CONTROL_TOKEN, else the contents of TokenFile, is used.
	Token string `yaml:"token"`
	// TokenFile is read for the token when neither Token nor
	// MESHBRIDGE_CONTROL_TOKEN sets it (default none).
	TokenFile string `yaml:"tokenFile"`
	// MaxCanariesPerService bounds the canary rules of one service (default 5).
	MaxCanariesPerService int `yaml:"maxCanariesPerService"`
	// MaxBodyBytes: larger request bodies get 413 (default 1 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
}

// HTTPConfig holds the timeouts and limits shared by every listener: the
// control API, Eureka, Consul, Nacos HTTP (and, for the header limit,
// Nacos gRPC). Body size limits are each front-end's own.
type HTTPConfig struct {
	// ReadHeaderTimeout bounds reading a request's line and headers (default 10s).
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	// ReadBodyTimeout bounds reading a request's body once its handler
	// runs; a slower body gets 408 and its connection is closed (default
	// 30s). Long-polls and blocking queries are not bounded by it.
	ReadBodyTimeout time.Duration `yaml:"readBodyTimeout"`
	// IdleTimeout closes a kept-alive connection idle this long (default 2m).
	IdleTimeout time.Duration `yaml:"idleTimeout"`
	// ShutdownTimeout bounds the drain after SIGTERM (default 30s).
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	// MaxHeaderBytes caps a request's line and headers in bytes; larger
	// ones get 431, and on Nacos gRPC it is the header list limit (default
	// 65536, 64 KiB).
	MaxHeaderBytes int `yaml:"maxHeaderBytes"`
}

// timeouts are the listener timeouts as internal/serve takes them.
func (c HTTPConfig) timeouts() serve.Timeouts {
	return serve.Timeouts{ReadHeader: c.ReadHeaderTimeout, ReadBody: c.ReadBodyTimeout, Idle: c.IdleTimeout, Shutdown: c.ShutdownTimeout}
}

// limits are the listener limits as internal/serve takes them.
func (c HTTPConfig) limits() serve.Limits { return serve.Limits{HeaderBytes: c.MaxHeaderBytes} }

// DefaultConfig is the configuration with every default applied.
func DefaultConfig() *Config {
	fronts := map[string]frontend.Config{}
	for _, k := range frontend.Kinds() {
		fronts[k.Name] = k.NewConfig()
	}
	return &Config{
		Store: StoreConfig{
			Type:     "embedded",
			Embedded: EmbeddedConfig{Dir: "./data", SnapshotBytes: 64 << 20},
			Etcd:     EtcdConfig{Endpoints: []string{"127.0.0.1:2379"}, Prefix: "/meshbridge/", DialTimeout: 5 * time.Second, SessionTTL: 10 * time.Second},
			History:  16384,
			Expiry: ExpiryConfig{Enabled: true, Interval: 5 * time.Second, StartupGrace: 90 * time.Second,
				SelfPreservationThreshold: 0.15, SelfPreservationMinLeases: 10},
		},
		Control: ControlConfig{Listen: ":8700", MaxCanariesPerService: 5, MaxBodyBytes: 1 << 20},
		HTTP: HTTPConfig{ReadHeaderTimeout: 10 * time.Second, ReadBodyTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
			ShutdownTimeout: 30 * time.Second, MaxHeaderBytes: serve.DefaultHeaderBytes},
		Log:       logging.Config{Level: "info", Format: "text"},
		FrontEnds: fronts,
	}
}

// decodeConfig decodes the file at path strictly onto cfg, the front-ends'
// sections onto theirs.
func decodeConfig(path string, cfg *Config) error {
	var sections []config.Section
	for _, k := range frontend.Kinds() {
		sections = append(sections, config.Section{Key: k.Name, Value: cfg.FrontEnds[k.Name]})
	}
	return config.Load(path, cfg, sections...)
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	var errs config.Errors
	s := c.Store
	errs.Add(s.Type != "embedded" && s.Type != "etcd", "store.type", "must be embedded or etcd, got %q", s.Type)
	errs.Add(s.Type == "embedded" && s.Embedded.Dir == "", "store.embedded.dir", "required")
	errs.Add(s.Embedded.SnapshotBytes < 1<<20, "store.embedded.snapshotBytes", "must be at least 1 MiB")
	errs.Add(s.Type == "etcd" && len(s.Etcd.Endpoints) == 0, "store.etcd.endpoints", "at least one endpoint is required")
	errs.Add(s.Etcd.DialTimeout <= 0, "store.etcd.dialTimeout", "must be positive")
	errs.Add(s.Etcd.SessionTTL < time.Second, "store.etcd.sessionTTL", "must be at least 1s")
	errs.Add(s.History < 16, "store.history", "must be at least 16")
	errs.Add(s.Expiry.Interval <= 0, "store.expiry.interval", "must be positive")
	errs.Add(s.Expiry.StartupGrace < 0, "store.expiry.startupGrace", "must not be negative")
	errs.Add(s.Expiry.SelfPreservationThreshold < 0 || s.Expiry.SelfPreservationThreshold > 1,
		"store.expiry.selfPreservationThreshold", "must be between 0 (off) and 1")
	errs.Add(s.Expiry.SelfPreservationMinLeases < 0, "store.expiry.selfPreservationMinLeases", "must not be negative")
	errs.Add(c.Control.MaxCanariesPerService < 1, "control.maxCanariesPerService", "must be at least 1")
	errs.Add(c.Control.MaxBodyBytes < 1024, "control.maxBodyBytes", "must be at least 1024")
	errs.Add(c.HTTP.ReadHeaderTimeout <= 0, "http.readHeaderTimeout", "must be positive")
	errs.Add(c.HTTP.ReadBodyTimeout <= 0, "http.readBodyTimeout", "must be positive")
	errs.Add(c.HTTP.IdleTimeout <= 0, "http.idleTimeout", "must be positive")
	errs.Add(c.HTTP.ShutdownTimeout <= 0, "http.shutdownTimeout", "must be positive")
	errs.Add(c.HTTP.MaxHeaderBytes < 4<<10 || c.HTTP.MaxHeaderBytes > 16<<20, "http.maxHeaderBytes", "must be between 4096 and 16777216")
	for _, k := range frontend.Kinds() {
		if err := c.FrontEnds[k.Name].Validate(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if err := host.ValidateAll(c.Plugins); err != nil {
		errs = append(errs, err.Error())
	}
	return errs.Err()
}
