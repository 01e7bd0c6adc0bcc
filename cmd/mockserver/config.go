package main

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/internal/selfregister"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/registry"
)

// Config is mockserver's configuration; configs/mockserver.yaml documents
// every key with its default.
type Config struct {
	// Service is the mocked service's name, what the mock registers as
	// (required with register.registries; default "").
	Service string `yaml:"service"`
	// Stubs are the stub roots: folders laid out as WireMock's, or files
	// (default [./stubs]).
	Stubs []string `yaml:"stubs"`
	// Strict makes equal stubs, one shadowing the other, an error at load
	// instead of a warning (default false).
	Strict bool `yaml:"strict"`
	// ReloadInterval is how often the stub files are looked at for
	// changes (default 1s).
	ReloadInterval time.Duration `yaml:"reloadInterval"`
	// Listen is the stubs listener's address (default :8080).
	Listen   string         `yaml:"listen"`
	Admin    AdminConfig    `yaml:"admin"`
	Limits   LimitsConfig   `yaml:"limits"`
	Timeouts TimeoutsConfig `yaml:"timeouts"`
	Journal  JournalConfig  `yaml:"journal"`
	// NearMisses is how many of the closest stubs an unmatched request's
	// 404 lists (default 3).
	NearMisses int            `yaml:"nearMisses"`
	OpenAPI    OpenAPIConfig  `yaml:"openapi"`
	Record     RecordConfig   `yaml:"record"`
	Register   RegisterConfig `yaml:"register"`
	// Plugins are out-of-process plugins (docs/plugins.md) (default none).
	Plugins []host.Config `yaml:"plugins"`
	// Middleware names HTTP handler plugins among Plugins that stand in
	// front of the stubs, the first outermost (default none).
	Middleware []string       `yaml:"middleware"`
	Log        logging.Config `yaml:"log"`
}

// AdminConfig is WireMock's admin API.
type AdminConfig struct {
	// Listen is its own listener's address; "" serves /__admin/ on the
	// stubs listener, as WireMock does (default :8081).
	Listen string `yaml:"listen"`
}

// LimitsConfig bounds what one request may make the mock hold.
type LimitsConfig struct {
	// MaxBodyBytes bounds a request body to the stubs (default 10 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// AdminMaxBodyBytes bounds a request body to the admin API (default 16 MiB).
	AdminMaxBodyBytes int64 `yaml:"adminMaxBodyBytes"`
	// HeaderBytes bounds a request's line and headers (default 64 KiB).
	HeaderBytes int `yaml:"headerBytes"`
}

// TimeoutsConfig are both listeners' timeouts.
type TimeoutsConfig struct {
	// ReadHeader bounds reading a request's header (default 10s).
	ReadHeader time.Duration `yaml:"readHeader"`
	// ReadBody bounds reading a request's body (default 30s).
	ReadBody time.Duration `yaml:"readBody"`
	// Idle bounds a kept-alive connection's wait for its next request
	// (default 2m).
	Idle time.Duration `yaml:"idle"`
	// Drain bounds the stop after SIGTERM: deregistering, then requests
	// in flight (default 30s).
	Drain time.Duration `yaml:"drain"`
}

// JournalConfig bounds the request journal.
type JournalConfig struct {
	// Entries kept, the oldest dropped and counted; -1 turns the journal
	// off (default 10000).
	Entries int `yaml:"entries"`
	// Bytes of request and response bodies kept together (default 64 MiB).
	Bytes int64 `yaml:"bytes"`
}

// OpenAPIConfig is stubs generated from OpenAPI 3 documents.
type OpenAPIConfig struct {
	// Files are the documents (YAML or JSON); each gives one stub file,
	// mappings/<its name>.json under Dir, made at start and again when
	// the document changes (default none).
	Files []string `yaml:"files"`
	// Dir is the stub root the generated stubs are written to, loaded
	// with the others; "" is a temporary folder removed at exit
	// (default "").
	Dir string `yaml:"dir"`
	// BasePath is put before every operation's path: "" takes the first
	// server's path, "/" puts nothing (default "").
	BasePath string `yaml:"basePath"`
}

// RecordConfig is record and playback: requests no stub matches are
// proxied to From and written as stub files under To, which is loaded
// with the other roots, so the reload serves them from then on.
type RecordConfig struct {
	// From is the real service's base URL (default "": no recording).
	From string `yaml:"from"`
	// To is the stub root the recordings go to (required with from).
	To string `yaml:"to"`
	// Timeout bounds one call to the upstream, body included (default 30s).
	Timeout time.Duration `yaml:"timeout"`
}

// RegisterConfig is the mock's registration as the mocked service.
type RegisterConfig struct {
	// Registries to register with: eureka, consul, nacos, mesh (default none).
	Registries []string `yaml:"registries"`
	// Advertise is the host, or host:port, callers are given (default: the
	// listen address's host when it names one, else the first address of
	// this host that is not loopback; the port is the listener's).
	Advertise string `yaml:"advertise"`
	// InstanceID is the instance's id (default <service>-mock-<host>-<port>).
	InstanceID string `yaml:"instanceId"`
	// Version is the instance's version label, which canary rules route
	// on (default mock).
	Version string `yaml:"version"`
	// Metadata is added to the instance's; mock=true and version are
	// always set (default none).
	Metadata map[string]string `yaml:"metadata"`
	// Heartbeat is how often the registration is renewed; leases and TTLs
	// are three times this (default 10s).
	Heartbeat time.Duration `yaml:"heartbeat"`
	Eureka    RegistryURL   `yaml:"eureka"`
	Consul    RegistryURL   `yaml:"consul"`
	Nacos     NacosURL      `yaml:"nacos"`
	Mesh      RegistryURL   `yaml:"mesh"`
}

// RegistryURL is where one registry answers.
type RegistryURL struct {
	URL string `yaml:"url"`
}

// NacosURL is where Nacos answers.
type NacosURL struct {
	URL string `yaml:"url"`
	// GRPCPort is Nacos's gRPC port (default 0: the URL's port + 1000).
	GRPCPort int `yaml:"grpcPort"`
}

// DefaultConfig is the configuration with every default.
func DefaultConfig() *Config {
	return &Config{
		Stubs:          []string{"./stubs"},
		ReloadInterval: time.Second,
		Listen:         ":8080",
		Admin:          AdminConfig{Listen: ":8081"},
		Limits:         LimitsConfig{MaxBodyBytes: 10 << 20, AdminMaxBodyBytes: 16 << 20, HeaderBytes: 64 << 10},
		Timeouts:       TimeoutsConfig{ReadHeader: 10 * time.Second, ReadBody: 30 * time.Second, Idle: 2 * time.Minute, Drain: 30 * time.Second},
		Journal:        JournalConfig{Entries: 10_000, Bytes: 64 << 20},
		NearMisses:     3,
		Record:         RecordConfig{Timeout: 30 * time.Second},
		Register: RegisterConfig{
			Version: "mock", Heartbeat: 10 * time.Second,
			Eureka: RegistryURL{URL: "http://127.0.0.1:8761/eureka"},
			Consul: RegistryURL{URL: "http://127.0.0.1:8500"},
			Nacos:  NacosURL{URL: "http://127.0.0.1:8848"},
			Mesh:   RegistryURL{URL: "http://127.0.0.1:8700"},
		},
		Log: logging.Config{Level: "info", Format: "text"},
	}
}

// registryURL is the URL configured for a registry kind.
func (r *RegisterConfig) registryURL(kind string) string {
	switch kind {
	case "eureka":
		return r.Eureka.URL
	case "consul":
		return r.Consul.URL
	case "nacos":
		return r.Nacos.URL
	}
	return r.Mesh.URL
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	var errs config.Errors
	errs.Add(len(c.Stubs) == 0, "stubs", "at least one stub root is needed")
	errs.Add(c.ReloadInterval <= 0, "reloadInterval", "must be positive")
	errs.Add(!isHostPort(c.Listen), "listen", "must be host:port, got %q", c.Listen)
	errs.Add(c.Admin.Listen != "" && !isHostPort(c.Admin.Listen), "admin.listen", "must be host:port or empty, got %q", c.Admin.Listen)
	errs.Add(c.Admin.Listen != "" && c.Admin.Listen == c.Listen, "admin.listen", "is the stubs listener's address; leave it empty to serve the admin API beside the stubs")
	errs.Add(c.Limits.MaxBodyBytes <= 0, "limits.maxBodyBytes", "must be positive")
	errs.Add(c.Limits.AdminMaxBodyBytes <= 0, "limits.adminMaxBodyBytes", "must be positive")
	errs.Add(c.Limits.HeaderBytes <= 0, "limits.headerBytes", "must be positive")
	for name, d := range map[string]time.Duration{"readHeader": c.Timeouts.ReadHeader, "readBody": c.Timeouts.ReadBody, "idle": c.Timeouts.Idle, "drain": c.Timeouts.Drain} {
		errs.Add(d <= 0, "timeouts."+name, "must be positive")
	}
	errs.Add(c.Journal.Entries < -1 || c.Journal.Entries == 0, "journal.entries", "must be positive, or -1 for no journal")
	errs.Add(c.Journal.Bytes <= 0, "journal.bytes", "must be positive")
	errs.Add(c.NearMisses <= 0, "nearMisses", "must be positive")
	c.OpenAPI.validate(&errs)
	c.Record.validate(&errs)
	c.Register.validate(c.Service, &errs)
	if err := host.ValidateAll(c.Plugins); err != nil {
		errs = append(errs, err.Error())
	}
	for i, name := range c.Middleware {
		errs.Add(!slices.ContainsFunc(c.Plugins, func(p host.Config) bool { return p.Name == name }),
			fmt.Sprintf("middleware[%d]", i), "no plugin named %q under plugins:", name)
	}
	return errs.Err()
}

func (r *RegisterConfig) validate(service string, errs *config.Errors) {
	if len(r.Registries) == 0 {
		return
	}
	errs.Add(!registry.ValidName(service), "service", "the mocked service's name is required to register (--service)")
	for i, kind := range r.Registries {
		field := fmt.Sprintf("register.registries[%d]", i)
		if !selfregister.Known(kind) {
			errs.Add(true, field, "must be one of %s, got %q", strings.Join(selfregister.Kinds, ", "), kind)
			continue
		}
		errs.Add(slices.Index(r.Registries, kind) < i, field, "%s is listed twice", kind)
		u, err := url.Parse(r.registryURL(kind))
		errs.Add(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "", "register."+kind+".url", "must be an http(s) URL, got %q", r.registryURL(kind))
	}
	if r.Advertise != "" {
		host, _, err := splitAdvertise(r.Advertise)
		errs.Add(err != nil || !registry.ValidHost(host), "register.advertise", "must be a host or host:port, got %q", r.Advertise)
	}
	errs.Add(r.InstanceID != "" && !registry.ValidName(r.InstanceID), "register.instanceId", "must be a name without '/' or control characters")
	errs.Add(r.Version == "", "register.version", "must not be empty")
	errs.Add(r.Heartbeat < 100*time.Millisecond, "register.heartbeat", "must be at least 100ms")
	errs.Add(r.Nacos.GRPCPort < 0 || r.Nacos.GRPCPort > 65535, "register.nacos.grpcPort", "must be 0-65535")
	if err := registry.ValidateMap("register.metadata", r.Metadata); err != nil {
		*errs = append(*errs, err.Error())
	}
}

func (o *OpenAPIConfig) validate(errs *config.Errors) {
	for i, f := range o.Files {
		field := fmt.Sprintf("openapi.files[%d]", i)
		errs.Add(f == "", field, "must not be empty")
		// Each document is written as mappings/<name>.json: two of one name would overwrite each other.
		errs.Add(slices.IndexFunc(o.Files, func(g string) bool { return specName(g) == specName(f) }) < i, field, "%s has the file name of an earlier document", f)
	}
	errs.Add(o.BasePath != "" && !strings.HasPrefix(o.BasePath, "/"), "openapi.basePath", "must start with /, got %q", o.BasePath)
}

// specName is the name of the stub file an OpenAPI document gives.
func specName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

func (r *RecordConfig) validate(errs *config.Errors) {
	errs.Add(r.Timeout <= 0, "record.timeout", "must be positive")
	if r.From == "" {
		errs.Add(r.To != "", "record.from", "is required with record.to (--record-from)")
		return
	}
	u, err := url.Parse(r.From)
	errs.Add(err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "", "record.from", "must be an http(s) URL without a query, got %q", r.From)
	errs.Add(r.To == "", "record.to", "is required with record.from (--record-to)")
}

func isHostPort(s string) bool {
	_, _, err := net.SplitHostPort(s)
	return err == nil
}

// splitAdvertise splits "host" or "host:port" (port 0 when absent).
func splitAdvertise(s string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return strings.Trim(s, "[]"), 0, nil // a host alone, an IPv6 one bracketed or not
	}
	if _, err := fmt.Sscanf(p, "%d", &port); err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", s)
	}
	return h, port, nil
}
