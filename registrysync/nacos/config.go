package nacos

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	iconfig "github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/registry"
)

// Config is a Nacos registry entry of registrysync's configuration.
type Config struct {
	// Servers are the Nacos servers' HTTP addresses, host:port (no
	// default: at least one). The client speaks gRPC to each at its HTTP
	// port + 1000, as Nacos 2.x clients do, unless GRPCPort is set.
	Servers []string `yaml:"servers"`
	// GRPCPort is the servers' gRPC port when it is not the HTTP port +
	// 1000 (default 0: HTTP port + 1000).
	GRPCPort int `yaml:"grpcPort"`
	// ContextPath is the servers' HTTP context path (default /nacos).
	ContextPath string `yaml:"contextPath"`
	// Username and Password log in when the servers have auth enabled
	// (default none). The password is never printed.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Namespaces are the namespace ids the source lists; "" and "public"
	// are the same namespace (default [public]). The sink writes each copy
	// into its own namespace, as the pair's mapping set it.
	Namespaces []string `yaml:"namespaces"`
	// Groups are the groups the source lists in every namespace (default
	// [DEFAULT_GROUP]). Nacos lists services one group at a time.
	Groups []string `yaml:"groups"`
	// ListInterval is how often the source reads the service lists again:
	// Nacos pushes changes of a service it is subscribed to, but not that
	// a service appeared, so a new service is seen within this time
	// (default 5s, at least 100ms). Every list read is sent as a complete
	// listing.
	ListInterval time.Duration `yaml:"listInterval"`
	// PageSize is how many service names one list request asks for
	// (default 500, 1-10000).
	PageSize int `yaml:"pageSize"`
	// Timeout bounds one request to a server (default 10s, at least 100ms).
	Timeout time.Duration `yaml:"timeout"`
	// LogDir is where the Nacos client writes its own log file
	// (default <temp dir>/meshbridge-nacos/log).
	LogDir string `yaml:"logDir"`
	// LogLevel is the Nacos client's log level: debug, info, warn or
	// error (default warn).
	LogLevel string `yaml:"logLevel"`
	// CacheDir is where the Nacos client writes the service lists it
	// receives (default <temp dir>/meshbridge-nacos/cache). The connector
	// never reads them back: a listing always comes from the server.
	CacheDir string `yaml:"cacheDir"`
}

// NewConfig returns the configuration with every default filled in.
func NewConfig() *Config {
	base := filepath.Join(os.TempDir(), "meshbridge-nacos")
	return &Config{
		ContextPath:  "/nacos",
		Namespaces:   []string{naming.DefaultNamespace},
		Groups:       []string{naming.DefaultGroup},
		ListInterval: 5 * time.Second,
		PageSize:     500,
		Timeout:      10 * time.Second,
		LogDir:       filepath.Join(base, "log"),
		LogLevel:     "warn",
		CacheDir:     filepath.Join(base, "cache"),
	}
}

// logLevels are the levels the Nacos client knows; it takes anything else
// for info.
var logLevels = []string{"debug", "info", "warn", "error"}

// Validate names every wrong field with its path below the registry entry.
func (c *Config) Validate() error {
	var errs iconfig.Errors
	errs.Add(len(c.Servers) == 0, "servers", "must name at least one Nacos server (host:port)")
	for i, s := range c.Servers {
		sc, err := serverAddr(s)
		errs.Add(err != nil, fmt.Sprintf("servers[%d]", i), "%v", err)
		errs.Add(err == nil && c.GRPCPort == 0 && sc.Port+constant.RpcPortOffset > 65535, fmt.Sprintf("servers[%d]", i),
			"the gRPC port (HTTP port %d + 1000) is over 65535: set grpcPort", sc.Port)
	}
	errs.Add(c.GRPCPort < 0 || c.GRPCPort > 65535, "grpcPort", "must be 0-65535, got %d", c.GRPCPort)
	errs.Add(c.ContextPath != "" && !strings.HasPrefix(c.ContextPath, "/"), "contextPath", "must start with '/', got %q", c.ContextPath)
	errs.Add(c.Password != "" && c.Username == "", "username", "must be set with password")
	errs.Add(len(c.Namespaces) == 0, "namespaces", "must name at least one namespace")
	for i, ns := range c.Namespaces {
		ns = naming.Namespace(ns)
		errs.Add(!registry.ValidName(ns), fmt.Sprintf("namespaces[%d]", i), "%s, got %q", registry.NameRule, ns)
	}
	errs.Add(len(c.Groups) == 0, "groups", "must name at least one group")
	for i, g := range c.Groups {
		g = naming.Group(g)
		errs.Add(!validGroup(g), fmt.Sprintf("groups[%d]", i), "%s, got %q", registry.GroupRule, g)
	}
	errs.Add(c.ListInterval < 100*time.Millisecond, "listInterval", "must be at least 100ms, got %v", c.ListInterval)
	errs.Add(c.PageSize < 1 || c.PageSize > 10000, "pageSize", "must be 1-10000, got %d", c.PageSize)
	errs.Add(c.Timeout < 100*time.Millisecond, "timeout", "must be at least 100ms, got %v", c.Timeout)
	errs.Add(c.LogDir == "", "logDir", "must not be empty")
	errs.Add(!slices.Contains(logLevels, c.LogLevel), "logLevel", "must be one of %s, got %q", strings.Join(logLevels, ", "), c.LogLevel)
	errs.Add(c.CacheDir == "", "cacheDir", "must not be empty")
	return errs.Err()
}

// String prints the configuration without its password.
func (c Config) String() string {
	if c.Password != "" {
		c.Password = "<redacted>"
	}
	type plain Config // no String method: no recursion
	return fmt.Sprintf("%+v", plain(c))
}

// validGroup is the registry's rule for a group (no "@@", not ending in
// '@'), which is also what Nacos can split back out of "group@@service".
func validGroup(g string) bool {
	return registry.ValidName(g) && !strings.Contains(g, registry.GroupSeparator) && !strings.HasSuffix(g, "@")
}

// serverAddr parses one entry of servers.
func serverAddr(s string) (constant.ServerConfig, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return constant.ServerConfig{}, fmt.Errorf("must be host:port, got %q", s)
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil || port == 0 || host == "" {
		return constant.ServerConfig{}, fmt.Errorf("must be host:port with a port of 1-65535, got %q", s)
	}
	return constant.ServerConfig{IpAddr: host, Port: port, Scheme: "http"}, nil
}
