package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/registry"
)

// ConsulConfig configures the Consul HTTP API front-end.
type ConsulConfig struct {
	// Listen is the HTTP address (default :8500; empty disables Consul).
	Listen string `yaml:"listen"`
	// Datacenter is the one datacenter served (default dc1).
	Datacenter string `yaml:"datacenter"`
	// NodeName is the agent's node name (default: the host name).
	NodeName string `yaml:"nodeName"`
	// NodeAddress is the node address, used for services registered without one (default 127.0.0.1).
	NodeAddress string `yaml:"nodeAddress"`
	// ACLToken, when set, is required on every call but /v1/status/*
	// (default none; MESHBRIDGE_CONSUL_TOKEN also sets it).
	ACLToken string `yaml:"aclToken"`
	// MaxBodyBytes: larger registration and check bodies get 413 (default 1 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// MaxKVValueBytes: larger KV values get 413 (default 512 KiB, Consul's kv_max_value_size).
	MaxKVValueBytes int64 `yaml:"maxKVValueBytes"`
}

func init() {
	adapterFlags = append(adapterFlags, adapterFlag{
		name:  "consul-listen",
		usage: "Consul HTTP API `address` (consul.listen, default :8500; empty disables)",
		apply: func(cfg *Config, v string) { cfg.Consul.Listen = v },
	})
	mounters = append(mounters, mountConsul)
}

func (c *ConsulConfig) validate(errs *config.Errors) {
	if c.Listen == "" {
		return
	}
	_, _, err := net.SplitHostPort(c.Listen)
	errs.Add(err != nil, "consul.listen", "must be host:port, got %q", c.Listen)
	errs.Add(c.Datacenter != "" && !registry.ValidName(c.Datacenter), "consul.datacenter", "must be a valid name")
	errs.Add(c.NodeName != "" && !registry.ValidName(c.NodeName), "consul.nodeName", "must be a valid name")
	errs.Add(c.NodeAddress != "" && !registry.ValidHost(c.NodeAddress), "consul.nodeAddress", "%s, got %q", registry.HostRule, c.NodeAddress)
	errs.Add(c.MaxBodyBytes < 1024, "consul.maxBodyBytes", "must be at least 1024")
	errs.Add(c.MaxKVValueBytes < 1024, "consul.maxKVValueBytes", "must be at least 1024")
}

func mountConsul(env *mountEnv) error {
	c := env.cfg.Consul
	if c.Listen == "" {
		env.log.Info("consul front-end disabled")
		return nil
	}
	if t := os.Getenv("MESHBRIDGE_CONSUL_TOKEN"); t != "" && c.ACLToken == "" {
		c.ACLToken = t
	}
	srv := consul.New(env.store, consul.Options{
		ACLToken: c.ACLToken, Datacenter: c.Datacenter, NodeName: c.NodeName, NodeAddress: c.NodeAddress,
		MaxBodyBytes: c.MaxBodyBytes, MaxKVValueBytes: c.MaxKVValueBytes,
		Timeouts: env.cfg.HTTP.timeouts(), Limits: env.cfg.HTTP.limits(),
		Logger: env.log, Metrics: env.reg,
	})
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("consul listener on %s: %w", c.Listen, err)
	}
	env.log.Info("listening", "listener", "consul", "addr", ln.Addr().String())
	// Run feeds blocking queries and runs checks; when it stops, parked
	// blocking queries answer at once, so Serve drains quickly.
	env.run("consul", srv.Run)
	env.run("consul-http", func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return nil
}
