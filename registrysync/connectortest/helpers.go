package connectortest

import (
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// Follow runs src until the test ends and returns its updates; the test
// fails if Run does not return nil within 10s of the end.
func Follow(t *testing.T, src registrysync.Source) <-chan registrysync.Update { return follow(t, src) }

// Await reads updates until one satisfies ok, failing the test after
// within (15s when zero).
func Await(t *testing.T, within time.Duration, updates <-chan registrysync.Update, what string, ok func(registrysync.Update) bool) registrysync.Update {
	t.Helper()
	if within <= 0 {
		within = 15 * time.Second
	}
	return await(t, Harness{Within: within}, updates, what, ok)
}

// Find returns the instance of service with id in u, or nil.
func Find(u registrysync.Update, service, id string) *registry.Instance {
	return findInstance(u, service, id)
}
