package consul

import (
	"testing"
	"time"

	consulfe "github.com/meshbridge/meshbridge/adapters/consul"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// TestConformance runs the suite every connector passes against
// registry-adapter serving only the Consul API, the stand-in for a real
// Consul agent (which cannot be fetched here). Apps register through
// consul/api; the copies' TTL is 1s and they are reaped 1s after it
// lapses, so CopiesStayAlive shows the sink keeps them passing.
func TestConformance(t *testing.T) {
	s := startStand(t, consulfe.Options{})
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, env registrysync.Env) registrysync.Connector {
			return s.connector(t, env)
		},
		Register:   func(t *testing.T, inst *registry.Instance) { s.register(t, inst) },
		Deregister: func(t *testing.T, inst *registry.Instance) { s.deregister(t, inst.ID) },
		// TTL, then DeregisterCriticalServiceAfter, then the reaper's
		// and the check loop's ticks.
		Expiry: ttl + deregisterAfter + 500*time.Millisecond,
	})
}
