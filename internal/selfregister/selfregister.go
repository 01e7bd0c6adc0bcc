package selfregister

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Kinds are the registries a Registrar registers with through an HTTP
// URL. New also takes "zookeeper" (a connect string for a URL), which
// demoapp offers and mockserver's configuration does not yet.
var Kinds = []string{"eureka", "consul", "nacos", "mesh"}

// Registration is the instance a Registrar keeps registered, and where.
type Registration struct {
	// URL is the registry's: http://host:8761/eureka, http://host:8500,
	// http://host:8848 (Nacos), http://host:8700 (the control API); for
	// ZooKeeper the connect string, host:port[,host:port].
	URL string
	// NacosGRPCPort is Nacos's gRPC port (0: the HTTP port + 1000).
	NacosGRPCPort int
	Service, ID   string
	// Host and Port are what callers are given: an address they can reach.
	Host string
	Port int
	// Metadata is the instance's metadata (the mesh's labels).
	Metadata map[string]string
	// HealthPath is the path a registry's health checks and Eureka's
	// dashboards call on Host:Port (default /actuator/health).
	HealthPath string
	// Heartbeat is how often the registration is renewed; the lease or
	// TTL is three times this.
	Heartbeat time.Duration
}

// Registrar keeps one instance registered until ctx ends, then
// deregisters it. Run never gives up while ctx lives: a registry that is
// down or restarting is retried, as a real client does.
type Registrar interface {
	Run(ctx context.Context)
}

// New returns the Registrar of kind (one of Kinds) for r; log may be nil.
func New(kind string, r Registration, log *slog.Logger) (Registrar, error) {
	if r.HealthPath == "" {
		r.HealthPath = "/actuator/health"
	}
	if r.Heartbeat <= 0 {
		return nil, errors.New("selfregister: heartbeat must be positive")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "selfregister", "registry", kind, "service", r.Service)
	switch kind {
	case "eureka":
		return newEureka(r, log), nil
	case "consul":
		return newConsul(r, log)
	case "nacos":
		return newNacos(r, log)
	case "zookeeper":
		return newZooKeeper(r, log)
	case "mesh":
		return newMesh(r, log)
	}
	return nil, fmt.Errorf("selfregister: unknown registry %q (want one of %s, zookeeper)", kind, strings.Join(Kinds, ", "))
}

// Known reports whether kind is one of Kinds.
func Known(kind string) bool { return slices.Contains(Kinds, kind) }

// deregisterTimeout bounds the goodbye call after ctx ended.
const deregisterTimeout = 5 * time.Second

// heartbeatLoop calls beat every interval until ctx ends; a failed beat is
// logged and followed by register (the registry may have lost or expired
// the instance). It is shared by the registrars whose clients have no
// heartbeat of their own.
func heartbeatLoop(ctx context.Context, interval time.Duration, log *slog.Logger, register, beat func(context.Context) error) {
	registered := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var err error
		if !registered {
			if err = register(ctx); err == nil {
				registered = true
				log.Info("registered")
			}
		} else if err = beat(ctx); err != nil {
			registered = false
			if errors.Is(err, registry.ErrNotFound) {
				log.Info("the registry forgot this instance; registering again")
				continue
			}
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("registry call failed; retrying", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
