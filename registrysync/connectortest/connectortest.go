// Package connectortest is the conformance suite every registrysync
// connector passes against a real registry (or, where none can run here,
// the adapter serving that registry's protocol, which the connector's test
// says): what its Source reports, what its Sink keeps, and that the
// ownership markers survive the round trip through the registry.
package connectortest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// Harness is a connector kind under test and a registry for it.
type Harness struct {
	// New builds a connector of the kind under test against the
	// registry, with env's Name and Owner. The suite closes it.
	New func(t *testing.T, env registrysync.Env) registrysync.Connector
	// Register puts inst in the registry as an app would, through the
	// registry's own client, and keeps it alive until Deregister or the
	// end of the test. A registry that names instances itself (Nacos
	// makes the id from the address) sets inst.ID to the id it gave: the
	// suite reads the id after Register.
	Register func(t *testing.T, inst *registry.Instance)
	// Deregister removes what Register put there.
	Deregister func(t *testing.T, inst *registry.Instance)
	// Expiry is how long the registry keeps an instance nobody keeps
	// alive; the suite checks that copies outlive twice that. Zero skips
	// the check (a registry whose copies live with a connection).
	Expiry time.Duration
	// Within bounds every wait for the registry to show a change
	// (default 15s).
	Within time.Duration
}

// Run runs the suite; each check is a subtest with fresh services.
func Run(t *testing.T, h Harness) {
	if h.Within <= 0 {
		h.Within = 15 * time.Second
	}
	t.Run("SourceListsWhatAppsRegistered", func(t *testing.T) { sourceLists(t, h) })
	t.Run("SourceFollowsChanges", func(t *testing.T) { sourceFollows(t, h) })
	t.Run("SinkPutsOwnsAndDeletes", func(t *testing.T) { sinkRoundTrip(t, h) })
	t.Run("CopiesAreMarkedInTheSource", func(t *testing.T) { copiesMarked(t, h) })
	t.Run("OwnedIsScopedToTheOwner", func(t *testing.T) { ownerScoped(t, h) })
	t.Run("CopiesStayAlive", func(t *testing.T) { copiesStayAlive(t, h) })
	t.Run("CloseRemovesWhenAsked", func(t *testing.T) { closeRemoves(t, h) })
}

// App returns an instance as an app of service would register it.
func App(service, id string, port int) *registry.Instance {
	return &registry.Instance{
		Service: service, ID: id, Host: "127.0.0.1", Port: port,
		Status: registry.StatusUp, Health: registry.HealthPassing,
		Metadata: map[string]string{"version": "v2", "team": "payments"},
	}
}

// Copy returns inst as a syncer with owner would write it, from origin.
func Copy(inst *registry.Instance, origin, owner string) *registry.Instance {
	c := inst.Clone()
	if c.Metadata == nil {
		c.Metadata = map[string]string{}
	}
	c.Metadata[registrysync.MetaOrigin] = origin
	c.Metadata[registrysync.MetaOwner] = owner
	return c
}

func connector(t *testing.T, h Harness, owner string) registrysync.Connector {
	t.Helper()
	c := h.New(t, registrysync.Env{Name: "under-test", Owner: owner})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), h.Within)
		defer cancel()
		if err := c.Close(ctx, true); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

// follow runs c's source until the test ends and returns its updates.
func follow(t *testing.T, c registrysync.Source) <-chan registrysync.Update {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	updates := make(chan registrysync.Update, 64)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, updates) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("source ended with %v, want nil after its context ended", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("source did not return within 10s of its context ending")
		}
	})
	return updates
}

// await reads updates until one satisfies ok or h.Within passes.
func await(t *testing.T, h Harness, updates <-chan registrysync.Update, what string, ok func(registrysync.Update) bool) registrysync.Update {
	t.Helper()
	deadline := time.After(h.Within)
	for {
		select {
		case u := <-updates:
			if ok(u) {
				return u
			}
		case <-deadline:
			t.Fatalf("no update within %v: %s", h.Within, what)
		}
	}
}

func findInstance(u registrysync.Update, service, id string) *registry.Instance {
	for _, g := range u.Groups {
		if g.Key.Service != service {
			continue
		}
		for _, in := range g.Instances {
			if in.ID == id {
				return in
			}
		}
	}
	return nil
}

func hasGroup(u registrysync.Update, service string) (registrysync.Group, bool) {
	for _, g := range u.Groups {
		if g.Key.Service == service {
			return g, true
		}
	}
	return registrysync.Group{}, false
}

func sourceLists(t *testing.T, h Harness) {
	app := App("conf-orders", "conf-orders-1", 18081)
	h.Register(t, app)
	c := connector(t, h, "syncer-a")
	u := await(t, h, follow(t, c), "the first complete listing with conf-orders-1", func(u registrysync.Update) bool {
		return u.Complete && findInstance(u, app.Service, app.ID) != nil
	})
	got := findInstance(u, app.Service, app.ID)
	if got.Host != app.Host || got.Port != app.Port {
		t.Errorf("listed at %s:%d, want %s:%d", got.Host, got.Port, app.Host, app.Port)
	}
	if got.Status != registry.StatusUp {
		t.Errorf("listed with status %s, want UP", got.Status)
	}
	if got.Metadata["version"] != "v2" {
		t.Errorf("listed metadata %v, want version v2 kept", got.Metadata)
	}
	if registrysync.IsCopy(got) {
		t.Errorf("an app's own registration is listed as a copy: %v", got.Metadata)
	}
}

func sourceFollows(t *testing.T, h Harness) {
	first := App("conf-pay", "conf-pay-1", 18082)
	h.Register(t, first)
	c := connector(t, h, "syncer-a")
	updates := follow(t, c)
	await(t, h, updates, "the first listing with conf-pay-1", func(u registrysync.Update) bool {
		return findInstance(u, first.Service, first.ID) != nil
	})
	second := App("conf-pay", "conf-pay-2", 18083)
	h.Register(t, second)
	await(t, h, updates, "conf-pay-2 registered after the listing", func(u registrysync.Update) bool {
		return findInstance(u, second.Service, second.ID) != nil
	})
	h.Deregister(t, first)
	await(t, h, updates, "conf-pay-1 gone, conf-pay-2 kept", func(u registrysync.Update) bool {
		g, ok := hasGroup(u, first.Service)
		return ok && findInstance(u, first.Service, first.ID) == nil && len(g.Instances) == 1
	})
	h.Deregister(t, second)
	await(t, h, updates, "conf-pay without instances", func(u registrysync.Update) bool {
		g, ok := hasGroup(u, first.Service)
		if ok {
			return len(g.Instances) == 0
		}
		return u.Complete // a complete listing without the service says it too
	})
}

func owned(t *testing.T, c registrysync.Sink) []*registry.Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := c.Owned(ctx)
	if err != nil {
		t.Fatalf("owned: %v", err)
	}
	return got
}

func ownsCopy(list []*registry.Instance, service, id string) *registry.Instance {
	for _, in := range list {
		if in.Service == service && in.ID == id {
			return in
		}
	}
	return nil
}

func put(t *testing.T, c registrysync.Sink, inst *registry.Instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Put(ctx, inst); err != nil {
		t.Fatalf("put %s/%s: %v", inst.Service, inst.ID, err)
	}
}

func del(t *testing.T, c registrysync.Sink, inst *registry.Instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Delete(ctx, inst); err != nil {
		t.Fatalf("delete %s/%s: %v", inst.Service, inst.ID, err)
	}
}

func sinkRoundTrip(t *testing.T, h Harness) {
	c := connector(t, h, "syncer-a")
	cp := Copy(App("conf-stock", "conf-stock-1", 18084), "legacy", "syncer-a")
	put(t, c, cp)
	poll.UntilNil(t, "the copy among the owned", func() error {
		got := ownsCopy(owned(t, c), cp.Service, cp.ID)
		switch {
		case got == nil:
			return fmt.Errorf("not owned")
		case got.Metadata[registrysync.MetaOrigin] != "legacy" || got.Metadata[registrysync.MetaOwner] != "syncer-a":
			return fmt.Errorf("markers %v lost", got.Metadata)
		case got.Host != cp.Host || got.Port != cp.Port:
			return fmt.Errorf("at %s:%d, want %s:%d", got.Host, got.Port, cp.Host, cp.Port)
		}
		return nil
	}, poll.Within(h.Within))
	cp.Metadata["version"] = "v3"
	put(t, c, cp)
	poll.UntilNil(t, "the copy updated in place", func() error {
		got := ownsCopy(owned(t, c), cp.Service, cp.ID)
		if got == nil || got.Metadata["version"] != "v3" {
			return fmt.Errorf("owned %v, want version v3", got)
		}
		return nil
	}, poll.Within(h.Within))
	del(t, c, cp)
	poll.UntilNil(t, "the copy gone", func() error {
		if ownsCopy(owned(t, c), cp.Service, cp.ID) != nil {
			return fmt.Errorf("still owned")
		}
		return nil
	}, poll.Within(h.Within))
	del(t, c, cp) // gone already: not an error
}

func copiesMarked(t *testing.T, h Harness) {
	c := connector(t, h, "syncer-a")
	cp := Copy(App("conf-mark", "conf-mark-1", 18085), "legacy", "syncer-a")
	put(t, c, cp)
	updates := follow(t, c)
	u := await(t, h, updates, "the copy in a listing", func(u registrysync.Update) bool {
		return findInstance(u, cp.Service, cp.ID) != nil
	})
	if got := findInstance(u, cp.Service, cp.ID); !registrysync.IsCopy(got) {
		t.Errorf("the source lists a copy without its markers: %v", got.Metadata)
	}
}

func ownerScoped(t *testing.T, h Harness) {
	a := connector(t, h, "syncer-a")
	b := connector(t, h, "syncer-b")
	cp := Copy(App("conf-scope", "conf-scope-1", 18086), "legacy", "syncer-b")
	put(t, b, cp)
	poll.UntilNil(t, "syncer-b owns its copy", func() error {
		if ownsCopy(owned(t, b), cp.Service, cp.ID) == nil {
			return fmt.Errorf("not owned by syncer-b")
		}
		return nil
	}, poll.Within(h.Within))
	if ownsCopy(owned(t, a), cp.Service, cp.ID) != nil {
		t.Errorf("syncer-a lists syncer-b's copy among its own")
	}
}

func copiesStayAlive(t *testing.T, h Harness) {
	if h.Expiry <= 0 {
		t.Skip("copies live with the connector's connection here")
	}
	c := connector(t, h, "syncer-a")
	cp := Copy(App("conf-alive", "conf-alive-1", 18087), "legacy", "syncer-a")
	put(t, c, cp)
	time.Sleep(2 * h.Expiry) // the registry's own clock: nothing to poll for
	if ownsCopy(owned(t, c), cp.Service, cp.ID) == nil {
		t.Fatalf("the copy expired within %v: the sink does not keep it alive", 2*h.Expiry)
	}
}

func closeRemoves(t *testing.T, h Harness) {
	c := h.New(t, registrysync.Env{Name: "under-test", Owner: "syncer-c"})
	cp := Copy(App("conf-close", "conf-close-1", 18088), "legacy", "syncer-c")
	put(t, c, cp)
	ctx, cancel := context.WithTimeout(context.Background(), h.Within)
	defer cancel()
	if err := c.Close(ctx, true); err != nil {
		t.Fatalf("close: %v", err)
	}
	again := connector(t, h, "syncer-c")
	poll.UntilNil(t, "no copy left after Close(remove)", func() error {
		if ownsCopy(owned(t, again), cp.Service, cp.ID) != nil {
			return fmt.Errorf("still there")
		}
		return nil
	}, poll.Within(h.Within))
}
