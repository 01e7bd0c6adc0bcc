package eureka

import (
	"strings"
	"testing"

	"github.com/hudl/fargo"

	eurekafe "github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
)

// TestConformance runs the suite every connector passes against
// registry-adapter serving only the Eureka API, the stand-in for a real
// Eureka server (which cannot be fetched here). Apps register through
// fargo; the copies' lease is short, so CopiesStayAlive shows the sink's
// renewals keep them.
func TestConformance(t *testing.T) {
	s := startStand(t, eurekafe.Options{})
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, env registrysync.Env) registrysync.Connector {
			return s.connector(t, env)
		},
		Register: func(t *testing.T, inst *registry.Instance) { s.register(t, inst) },
		Deregister: func(t *testing.T, inst *registry.Instance) {
			w := &fargo.Instance{App: strings.ToUpper(inst.Service), InstanceId: inst.ID}
			if err := s.fargo().DeregisterInstance(w); err != nil {
				t.Fatalf("fargo deregister %s: %v", inst.ID, err)
			}
		},
		Expiry: lease,
	})
}
