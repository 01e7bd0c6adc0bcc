package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/meshbridge/meshbridge/adapters/nacos"
	"github.com/meshbridge/meshbridge/adapters/nacos/auth"
	"github.com/meshbridge/meshbridge/adapters/nacos/v1"
	"github.com/meshbridge/meshbridge/internal/config"
)

// NacosConfig configures the Nacos front-end (v1 HTTP and v2 gRPC).
type NacosConfig struct {
	// Listen is the HTTP address (default :8848; empty disables Nacos).
	Listen string `yaml:"listen"`
	// GRPCListen is the gRPC address (default: the HTTP port + 1000, as Nacos 2.x clients expect).
	GRPCListen string `yaml:"grpcListen"`
	// MaxBodyBytes: larger HTTP request bodies get 413 (default 10 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// GRPCMaxMessageBytes: larger gRPC messages are refused (default 10 MiB,
	// Nacos's max-inbound-message-size).
	GRPCMaxMessageBytes int             `yaml:"grpcMaxMessageBytes"`
	Auth                NacosAuthConfig `yaml:"auth"`
}

// NacosAuthConfig turns on Nacos login and access tokens.
type NacosAuthConfig struct {
	Enabled bool `yaml:"enabled"`
	// Secret signs tokens (at least 32 bytes; no default). MESHBRIDGE_NACOS_AUTH_SECRET also sets it.
	Secret   string            `yaml:"secret"`
	TokenTTL time.Duration     `yaml:"tokenTTL"`
	Users    map[string]string `yaml:"users"`
	// MaxPreAuthBodyBytes caps what is read of an HTTP form body to find
	// its accessToken when the query string and headers carry none, and
	// the size of a login body (default 1 MiB). A token in the query
	// string or a header is checked before any body is read.
	MaxPreAuthBodyBytes int64 `yaml:"maxPreAuthBodyBytes"`
}

func init() {
	adapterFlags = append(adapterFlags, adapterFlag{
		name:  "nacos-listen",
		usage: "Nacos HTTP `address` (nacos.listen, default :8848; gRPC on its port + 1000; empty disables)",
		apply: func(cfg *Config, v string) { cfg.Nacos.Listen = v },
	})
	mounters = append(mounters, mountNacos)
}

func (c *NacosConfig) validate(errs *config.Errors) {
	if c.Listen == "" {
		return
	}
	_, _, err := net.SplitHostPort(c.Listen)
	errs.Add(err != nil, "nacos.listen", "must be host:port, got %q", c.Listen)
	if c.GRPCListen == "" && err == nil {
		_, gerr := nacos.GRPCAddr(c.Listen)
		errs.Add(gerr != nil, "nacos.listen", "%v", gerr)
	}
	errs.Add(c.Auth.TokenTTL < 0, "nacos.auth.tokenTTL", "must not be negative")
	errs.Add(c.MaxBodyBytes < 1024, "nacos.maxBodyBytes", "must be at least 1024")
	errs.Add(c.GRPCMaxMessageBytes < 1024, "nacos.grpcMaxMessageBytes", "must be at least 1024")
	errs.Add(c.Auth.MaxPreAuthBodyBytes < 1024 || c.Auth.MaxPreAuthBodyBytes > c.MaxBodyBytes,
		"nacos.auth.maxPreAuthBodyBytes", "must be at least 1024 and at most nacos.maxBodyBytes")
}

func mountNacos(env *mountEnv) error {
	c := env.cfg.Nacos
	if c.Listen == "" {
		env.log.Info("nacos front-end disabled")
		return nil
	}
	if s := os.Getenv("MESHBRIDGE_NACOS_AUTH_SECRET"); s != "" && c.Auth.Secret == "" {
		c.Auth.Secret = s
	}
	a, err := nacos.New(env.store, nacos.Options{
		Logger: env.log.With("component", "nacos"),
		Auth:   auth.Options{Enabled: c.Auth.Enabled, Secret: c.Auth.Secret, TokenTTL: c.Auth.TokenTTL, Users: c.Auth.Users},
		HTTP: v1.Options{
			MaxBodyBytes: c.MaxBodyBytes, MaxPreAuthBodyBytes: c.Auth.MaxPreAuthBodyBytes,
			Timeouts: env.cfg.HTTP.timeouts(), Limits: env.cfg.HTTP.limits(),
		},
		GRPC: nacos.GRPCOptions{MaxMessageBytes: c.GRPCMaxMessageBytes, MaxHeaderBytes: env.cfg.HTTP.MaxHeaderBytes},
	})
	if err != nil {
		return fmt.Errorf("nacos: %w", err)
	}
	grpcAddr := c.GRPCListen
	if grpcAddr == "" {
		if grpcAddr, err = nacos.GRPCAddr(c.Listen); err != nil {
			return err
		}
	}
	httpLn, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("nacos HTTP listener on %s: %w", c.Listen, err)
	}
	grpcLn, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("nacos gRPC listener on %s: %w", grpcAddr, err)
	}
	env.log.Info("listening", "listener", "nacos-http", "addr", httpLn.Addr().String())
	env.log.Info("listening", "listener", "nacos-grpc", "addr", grpcLn.Addr().String())
	env.run("nacos-http", func(ctx context.Context) error { return a.ServeHTTP(ctx, httpLn) })
	env.run("nacos-grpc", func(ctx context.Context) error { return a.ServeGRPC(ctx, grpcLn) })
	env.onStop(func() { a.Close() })
	return nil
}
