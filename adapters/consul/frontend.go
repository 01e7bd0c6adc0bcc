package consul

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/registry"
)

func init() {
	frontend.Register(frontend.Kind{
		Name: "consul", NewConfig: func() frontend.Config { return DefaultConfig() }, Mount: mount,
		DiscoveryListen: "127.0.0.1:8500", KeyValues: true,
	})
}

// Config is the consul: section of registry-adapter's configuration.
type Config struct {
	// Listen is the HTTP address (default :8500; empty disables Consul).
	Listen string `yaml:"listen"`
	// Datacenter is the one datacenter served (default dc1).
	Datacenter string `yaml:"datacenter"`
	// NodeName is the agent's node name (default: the host name).
	NodeName string `yaml:"nodeName"`
	// NodeAddress is the node address, used for services registered without one (default 127.0.0.1).
	NodeAddress string `yaml:"nodeAddress"`
	// NodeID is the node's ID, a UUID (default: derived from datacenter and node name).
	NodeID string `yaml:"nodeID"`
	// NodeMeta is the node's metadata, shown with Consul's own keys
	// (consul-network-segment, consul-version) in the catalog (default none).
	NodeMeta map[string]string `yaml:"nodeMeta"`
	// ACLToken, when set, is required on every call but /v1/status/*
	// (default none; MESHBRIDGE_CONSUL_TOKEN also sets it).
	ACLToken string `yaml:"aclToken"`
	// MaxBodyBytes: larger registration and check bodies get 413 (default 1 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
	// MaxKVValueBytes: larger KV values get 413 (default 512 KiB, Consul's kv_max_value_size).
	MaxKVValueBytes int64 `yaml:"maxKVValueBytes"`
}

// DefaultConfig is the configuration with every default applied.
func DefaultConfig() *Config {
	return &Config{Listen: ":8500", Datacenter: "dc1", NodeAddress: "127.0.0.1", MaxBodyBytes: 1 << 20, MaxKVValueBytes: 512 << 10}
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	var errs config.Errors
	_, _, err := net.SplitHostPort(c.Listen)
	errs.Add(err != nil, "consul.listen", "must be host:port, got %q", c.Listen)
	errs.Add(c.Datacenter != "" && !registry.ValidName(c.Datacenter), "consul.datacenter", "must be a valid name")
	errs.Add(c.NodeName != "" && !registry.ValidName(c.NodeName), "consul.nodeName", "must be a valid name")
	errs.Add(c.NodeAddress != "" && !registry.ValidHost(c.NodeAddress), "consul.nodeAddress", "%s, got %q", registry.HostRule, c.NodeAddress)
	errs.Add(c.NodeID != "" && !validUUID(c.NodeID), "consul.nodeID", "must be a UUID, got %q", c.NodeID)
	metaErr := wire.ValidateMeta(c.NodeMeta)
	errs.Add(metaErr != nil, "consul.nodeMeta", "%v", metaErr)
	errs.Add(c.MaxBodyBytes < 1024, "consul.maxBodyBytes", "must be at least 1024")
	errs.Add(c.MaxKVValueBytes < 1024, "consul.maxKVValueBytes", "must be at least 1024")
	return errs.Err()
}

// Flags binds --consul-listen.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "consul-listen", c.Listen, "Consul HTTP API `address` (consul.listen; empty disables)")
}

// mount serves the Consul HTTP API on its listener, with Run feeding the
// blocking queries and running the checks: when Run stops, parked
// blocking queries answer at once, so the listener drains quickly.
func mount(fc frontend.Config, env frontend.Env) error {
	c := *fc.(*Config)
	namespace := ""
	if env.Sidecar != nil {
		c.Listen, namespace = env.Sidecar.Listen, env.Sidecar.Namespace
	} else if t := os.Getenv("MESHBRIDGE_CONSUL_TOKEN"); t != "" && c.ACLToken == "" {
		c.ACLToken = t
	}
	if c.Listen == "" {
		env.Logger.Info("consul front-end disabled")
		return nil
	}
	srv := New(env.Registry, Options{
		ACLToken: c.ACLToken, Datacenter: c.Datacenter, NodeName: c.NodeName, NodeAddress: c.NodeAddress, NodeID: c.NodeID, NodeMeta: c.NodeMeta,
		Namespace: namespace, MaxBodyBytes: c.MaxBodyBytes, MaxKVValueBytes: c.MaxKVValueBytes,
		Timeouts: env.Timeouts, Limits: env.Limits, Logger: env.Logger, Metrics: env.Metrics,
	})
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("consul listener on %s: %w", c.Listen, err)
	}
	env.Group.Cleanup(func() { _ = ln.Close() }) // in case it never served; Serve closes it otherwise
	env.Logger.Info("listening", "listener", "consul", "addr", ln.Addr().String())
	env.Group.Go(srv.Run)
	env.Group.Go(func(ctx context.Context) error { return srv.Serve(ctx, ln) })
	return nil
}
