package nacos_test

import (
	"testing"

	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
	"github.com/meshbridge/meshbridge/registrysync/nacos"
)

// TestConformance runs the connector suite against registry-adapter's
// Nacos front-end in Nacos-only mode, the stand-in for a real Nacos 2.x
// server (none can be fetched here), with apps registering through
// nacos-sdk-go. Copies live with the sink's connection, so the suite's
// expiry check is skipped (Expiry 0); TestCopiesSurviveAServerRestart
// checks what keeps them instead.
func TestConformance(t *testing.T) {
	s := startServer(t)
	a := newApps(t, s)
	connectortest.Run(t, connectortest.Harness{
		New: func(t *testing.T, env registrysync.Env) registrysync.Connector {
			env.Logger = quiet
			c, err := nacos.New(s.config(), env)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Register:   a.register,
		Deregister: a.deregister,
	})
}
