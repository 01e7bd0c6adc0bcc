package nacos

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/adapters/nacos/auth"
	"github.com/meshbridge/meshbridge/adapters/nacos/v1"
	iconfig "github.com/meshbridge/meshbridge/internal/config"
)

func init() {
	frontend.Register(frontend.Kind{
		Name: "nacos", NewConfig: func() frontend.Config { return DefaultConfig() }, Mount: mount,
		DiscoveryListen: "127.0.0.1:8848", KeyValues: true,
	})
}

// Config is the nacos: section of registry-adapter's configuration: the
// v1 HTTP API and the v2 gRPC protocol.
type Config struct {
	// Listen is the HTTP address (default :8848; empty disables Nacos).
	Listen string `yaml:"listen"`
	// GRPCListen is the gRPC address (default: the HTTP port + 1000, as Nacos 2.x clients expect).
	GRPCListen string `yaml:"grpcListen"`
	// MaxBodyBytes: larger HTTP request bodies get 413 (default 10 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// GRPCMaxMessageBytes: larger gRPC messages are refused (default 10 MiB,
	// Nacos's max-inbound-message-size).
	GRPCMaxMessageBytes int        `yaml:"grpcMaxMessageBytes"`
	Auth                AuthConfig `yaml:"auth"`
}

// AuthConfig turns on Nacos login and access tokens.
type AuthConfig struct {
	// Enabled turns login and tokens on (default false).
	Enabled bool `yaml:"enabled"`
	// Secret signs tokens (at least 32 bytes; no default). MESHBRIDGE_NACOS_AUTH_SECRET also sets it.
	Secret string `yaml:"secret"`
	// TokenTTL is a token's lifetime (default 5h).
	TokenTTL time.Duration `yaml:"tokenTTL"`
	// Users are the accounts, user name to password (default none).
	Users map[string]string `yaml:"users"`
	// MaxPreAuthBodyBytes caps what is read of an HTTP form body to find
	// its accessToken when the query string and headers carry none, and
	// the size of a login body (default 1 MiB). A token in the query
	// string or a header is checked before any body is read.
	MaxPreAuthBodyBytes int64 `yaml:"maxPreAuthBodyBytes"`
}

// DefaultConfig is the configuration with every default applied.
func DefaultConfig() *Config {
	return &Config{Listen: ":8848", MaxBodyBytes: 10 << 20, GRPCMaxMessageBytes: 10 << 20,
		Auth: AuthConfig{TokenTTL: auth.DefaultTokenTTL, MaxPreAuthBodyBytes: 1 << 20}}
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	var errs iconfig.Errors
	_, _, err := net.SplitHostPort(c.Listen)
	errs.Add(err != nil, "nacos.listen", "must be host:port, got %q", c.Listen)
	if c.GRPCListen == "" && err == nil {
		_, gerr := GRPCAddr(c.Listen)
		errs.Add(gerr != nil, "nacos.listen", "%v", gerr)
	}
	errs.Add(c.Auth.TokenTTL < 0, "nacos.auth.tokenTTL", "must not be negative")
	errs.Add(c.MaxBodyBytes < 1024, "nacos.maxBodyBytes", "must be at least 1024")
	errs.Add(c.GRPCMaxMessageBytes < 1024, "nacos.grpcMaxMessageBytes", "must be at least 1024")
	errs.Add(c.Auth.MaxPreAuthBodyBytes < 1024 || c.Auth.MaxPreAuthBodyBytes > c.MaxBodyBytes,
		"nacos.auth.maxPreAuthBodyBytes", "must be at least 1024 and at most nacos.maxBodyBytes")
	return errs.Err()
}

// Flags binds --nacos-listen.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "nacos-listen", c.Listen, "Nacos HTTP `address` (nacos.listen; gRPC on its port + 1000; empty disables)")
}

// mount serves the v1 HTTP API and the v2 gRPC protocol on their
// listeners; the adapter's background work stops once both drained.
func mount(fc frontend.Config, env frontend.Env) error {
	c := *fc.(*Config)
	if env.Sidecar != nil {
		c.Listen = env.Sidecar.Listen // Nacos has namespaces of its own
	} else if s := os.Getenv("MESHBRIDGE_NACOS_AUTH_SECRET"); s != "" && c.Auth.Secret == "" {
		c.Auth.Secret = s
	}
	if c.Listen == "" {
		env.Logger.Info("nacos front-end disabled")
		return nil
	}
	a, err := New(env.Registry, Options{
		Logger: env.Logger.With("component", "nacos"),
		Auth:   auth.Options{Enabled: c.Auth.Enabled, Secret: c.Auth.Secret, TokenTTL: c.Auth.TokenTTL, Users: c.Auth.Users},
		HTTP: v1.Options{
			MaxBodyBytes: c.MaxBodyBytes, MaxPreAuthBodyBytes: c.Auth.MaxPreAuthBodyBytes,
			Timeouts: env.Timeouts, Limits: env.Limits,
		},
		GRPC: GRPCOptions{MaxMessageBytes: c.GRPCMaxMessageBytes, MaxHeaderBytes: env.Limits.HeaderBytes},
	})
	if err != nil {
		return err
	}
	env.Group.Cleanup(func() { _ = a.Close() }) // only stops background work: cannot fail
	grpcAddr := c.GRPCListen
	if grpcAddr == "" {
		if grpcAddr, err = GRPCAddr(c.Listen); err != nil {
			return err
		}
	}
	httpLn, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("nacos HTTP listener on %s: %w", c.Listen, err)
	}
	env.Group.Cleanup(func() { _ = httpLn.Close() }) // in case it never served
	grpcLn, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return fmt.Errorf("nacos gRPC listener on %s: %w", grpcAddr, err)
	}
	env.Group.Cleanup(func() { _ = grpcLn.Close() })
	env.Logger.Info("listening", "listener", "nacos-http", "addr", httpLn.Addr().String())
	env.Logger.Info("listening", "listener", "nacos-grpc", "addr", grpcLn.Addr().String())
	env.Group.Go(func(ctx context.Context) error { return a.ServeHTTP(ctx, httpLn) })
	env.Group.Go(func(ctx context.Context) error { return a.ServeGRPC(ctx, grpcLn) })
	return nil
}
