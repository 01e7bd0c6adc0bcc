package connectortest

import (
	"context"
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

// Put puts inst with sink, failing the test on an error.
func Put(t *testing.T, sink registrysync.Sink, inst *registry.Instance) {
	t.Helper()
	put(t, sink, inst)
}

// Close closes c, failing the test on an error. A test that restarts
// its registry defers it, so that c closes before the restarted
// registry stops (cleanups run after deferred calls).
func Close(t *testing.T, c registrysync.Connector, remove bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.Close(ctx, remove); err != nil {
		t.Errorf("close: %v", err)
	}
}

// CloseOnCleanup closes c when the test ends.
func CloseOnCleanup(t *testing.T, c registrysync.Connector, remove bool) {
	t.Cleanup(func() { Close(t, c, remove) })
}
