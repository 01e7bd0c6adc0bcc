package consul

import (
	"errors"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/adapters/consul/wire"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// Options configure a Server. Zero values take the defaults named beside
// each field.
type Options struct {
	// ACLToken, when set, is required on every request except /v1/status/*,
	// in X-Consul-Token, "Authorization: Bearer" or ?token=. Empty disables ACLs.
	ACLToken string
	// Datacenter is the one datacenter served (default "dc1").
	Datacenter string
	// NodeName is the agent's node name (default: the host name, else "meshbridge").
	NodeName string
	// NodeAddress is the node's address, used for services registered
	// without an Address (default "127.0.0.1").
	NodeAddress string
	// NodeID is the node's ID, a UUID (default: derived from the
	// datacenter and node name, so it stays the same across restarts).
	NodeID string
	// NodeMeta is the node's metadata besides what Consul sets itself
	// (consul-network-segment, consul-version).
	NodeMeta map[string]string
	// Namespace is the registry namespace served (default "public").
	Namespace string
	// Logger receives the adapter's logs (default slog.Default()).
	Logger *slog.Logger
	// Metrics, when set, receives the adapter's Prometheus metrics.
	Metrics prometheus.Registerer

	// CheckReapInterval is how often services critical for longer than their
	// DeregisterCriticalServiceAfter are removed (default 30s, Consul's).
	CheckReapInterval time.Duration
	// MinDeregisterAfter is the smallest DeregisterCriticalServiceAfter
	// honoured; smaller values are raised to it (default 1m, Consul's).
	MinDeregisterAfter time.Duration
	// CheckUpdateInterval limits how often a check whose output changed but
	// whose status did not is written to the store (default 5m, Consul's).
	CheckUpdateInterval time.Duration
	// MaxConcurrentProbes bounds the HTTP and TCP checks running at once (default 64).
	MaxConcurrentProbes int

	// MaxBodyBytes caps request bodies other than KV values (registrations,
	// check updates); larger ones get 413 (default 1 MiB, far above any
	// real one).
	MaxBodyBytes int64
	// MaxKVValueBytes caps a KV value; larger ones get 413 with Consul's
	// message (default 512 KiB, Consul's kv_max_value_size).
	MaxKVValueBytes int64
	// Timeouts and Limits bound the listener Serve runs: header and body
	// read times, idle connections, header size (zero values: serve's
	// defaults, 10s, 30s, 2m and 64 KiB). Their Shutdown is not used: Serve
	// drains for up to 10s.
	Timeouts serve.Timeouts
	Limits   serve.Limits
}

func (o Options) withDefaults() Options {
	if o.Datacenter == "" {
		o.Datacenter = "dc1"
	}
	if o.NodeName == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			o.NodeName = h
		} else {
			o.NodeName = "meshbridge"
		}
	}
	if o.NodeAddress == "" {
		o.NodeAddress = "127.0.0.1"
	}
	if o.Namespace == "" {
		o.Namespace = registry.DefaultNamespace
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CheckReapInterval <= 0 {
		o.CheckReapInterval = 30 * time.Second
	}
	if o.MinDeregisterAfter <= 0 {
		o.MinDeregisterAfter = time.Minute
	}
	if o.CheckUpdateInterval <= 0 {
		o.CheckUpdateInterval = 5 * time.Minute
	}
	if o.MaxConcurrentProbes <= 0 {
		o.MaxConcurrentProbes = 64
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxKVValueBytes <= 0 {
		o.MaxKVValueBytes = 512 << 10
	}
	return o
}

// Validate names the first wrong field.
func (o Options) Validate() error {
	var errs []error
	if o.Namespace != "" && !registry.ValidName(o.Namespace) {
		errs = append(errs, errors.New("consul.namespace: must be a valid name"))
	}
	if o.Datacenter != "" && !registry.ValidName(o.Datacenter) {
		errs = append(errs, errors.New("consul.datacenter: must be a valid name"))
	}
	if o.NodeName != "" && !registry.ValidName(o.NodeName) {
		errs = append(errs, errors.New("consul.nodeName: must be a valid name"))
	}
	if o.NodeID != "" && !validUUID(o.NodeID) {
		errs = append(errs, errors.New("consul.nodeID: must be a UUID"))
	}
	if err := wire.ValidateMeta(o.NodeMeta); err != nil {
		errs = append(errs, errors.New("consul.nodeMeta: "+err.Error()))
	}
	if o.NodeAddress != "" && !registry.ValidHost(o.NodeAddress) {
		errs = append(errs, errors.New("consul.nodeAddress: "+registry.HostRule))
	}
	return errors.Join(errs...)
}

// validUUID reports whether s is a UUID in its usual 8-4-4-4-12 hex form,
// as Consul requires of node_id.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}
