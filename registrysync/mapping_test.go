package registrysync

import (
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

func TestMappingCarriesFieldsAndMaps(t *testing.T) {
	p := PairConfig{
		Direction:  Both,
		Services:   ServiceFilter{Include: []string{"ORD*", "pay"}, Exclude: []string{"orders-internal"}},
		Namespaces: map[string]string{"public": "prod"},
		Groups:     map[string]string{"DEFAULT_GROUP": "legacy"},
		Zones:      map[string]string{"eu-1a": "zone-a"},
		Metadata:   map[string]string{"team": "owner", "secret": ""},
		Status:     map[registry.Status]registry.Status{registry.StatusStarting: registry.StatusDown},
	}
	forward, back := mappings(p)
	for service, want := range map[string]bool{"Orders": true, "pay": true, "orders-internal": false, "cart": false} {
		if got := forward.wants(service); got != want {
			t.Errorf("wants(%q) = %v, want %v", service, got, want)
		}
	}
	src := &registry.Instance{
		ID: "orders-1", Service: "ORDERS", Zone: "eu-1a", Host: "10.0.0.1", Port: 8080, SecurePort: 8443, SecureEnabled: true,
		Status: registry.StatusStarting, Health: registry.HealthWarning, Weight: 3,
		Metadata:   map[string]string{"team": "payments", "secret": "x", "version": "v2", "zone": "eu-1a", MetaOwner: "forged"},
		Labels:     map[string]string{"version": "v2", "tier": "gold"},
		Attributes: map[string]string{"nacos.connection": "c-1"}, Origin: "eureka", Revision: 7,
	}
	c := finish(forward.copyOf(src), "legacy", "syncer-1")
	checks := []struct {
		name      string
		got, want any
	}{
		{"namespace", c.Namespace, "prod"},
		{"group", c.Group, "legacy"},
		{"zone", c.Zone, "zone-a"},
		{"zone metadata", c.Metadata["zone"], "zone-a"},
		{"status mapped", c.Status, registry.StatusDown},
		{"health", c.Health, registry.HealthWarning},
		{"weight", c.Weight, 3.0},
		{"secure port", c.SecurePort, 8443},
		{"renamed key", c.Metadata["owner"], "payments"},
		{"old key gone", c.Metadata["team"], ""},
		{"dropped key", c.Metadata["secret"], ""},
		{"version kept", c.Metadata["version"], "v2"},
		{"label not in metadata carried", c.Metadata["label.tier"], "gold"},
		{"derived label not doubled", c.Metadata["label.version"], ""},
		{"origin marker", c.Metadata[MetaOrigin], "legacy"},
		{"owner marker not forged", c.Metadata[MetaOwner], "syncer-1"},
		{"attributes not copied", len(c.Attributes), 0},
		{"model origin left to the sink", c.Origin, ""},
		{"revision not copied", c.Revision, int64(0)},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if c.Metadata[MetaDigest] != digestOf(c) {
		t.Error("the digest is not the copy's")
	}
	// The way back turns the maps round.
	b := back.copyOf(&registry.Instance{ID: "x", Service: "pay", Namespace: "prod", Group: "legacy", Metadata: map[string]string{"owner": "t"}})
	if b.Namespace != "public" || b.Group != "DEFAULT_GROUP" || b.Metadata["team"] != "t" {
		t.Errorf("back: %+v", b)
	}
}

func TestDigestIgnoresWhatTheRegistryStamps(t *testing.T) {
	m, _ := mappings(PairConfig{})
	src := &registry.Instance{ID: "a", Service: "s", Host: "h", Port: 1, Metadata: map[string]string{"k": "v"}}
	one := finish(m.copyOf(src), "o", "me")
	stamped := src.Clone()
	stamped.Revision, stamped.Origin = 99, "consul"
	stamped.Lease = registry.Lease{Duration: 1}
	stamped.Attributes = map[string]string{"eureka.lastDirty": "123"}
	if two := finish(m.copyOf(stamped), "o", "me"); two.Metadata[MetaDigest] != one.Metadata[MetaDigest] {
		t.Error("a renewal or a registry's own stamps change the digest: every pass would write again")
	}
	changed := src.Clone()
	changed.Port = 2
	if three := finish(m.copyOf(changed), "o", "me"); three.Metadata[MetaDigest] == one.Metadata[MetaDigest] {
		t.Error("a changed port keeps the digest: the change would not be written")
	}
}

func TestPlanTouchesOnlyTheOriginsOwnCopies(t *testing.T) {
	mk := func(id, origin, digest string) *registry.Instance {
		return &registry.Instance{Service: "s", ID: id, Metadata: map[string]string{MetaOrigin: origin, MetaOwner: "me", MetaDigest: digest}}
	}
	in := planInput{
		origin: "a",
		desired: map[copyKey]*registry.Instance{
			{"s", "new"}: mk("new", "a", "d1"), {"s", "same"}: mk("same", "a", "d2"), {"s", "changed"}: mk("changed", "a", "d3"),
			{"s", "adopt"}: mk("adopt", "a", "d4"), {"s", "taken"}: mk("taken", "a", "d5"),
		},
		current: map[copyKey][]*registry.Instance{
			{"s", "same"}: {mk("same", "a", "d2")}, {"s", "changed"}: {mk("changed", "a", "old")},
			{"s", "adopt"}: {mk("adopt", "a", "d4")}, {"s", "taken"}: {mk("taken", "b", "x")},
			{"s", "gone"}: {mk("gone", "a", "x")}, {"s", "b-only"}: {mk("b-only", "b", "x")},
			{"s", "kept"}: {mk("kept", "a", "k")},
		},
		keep:      map[copyKey]bool{{"s", "kept"}: true},
		alive:     map[copyKey]string{{"s", "same"}: "d2"},
		canDelete: true,
	}
	p := makePlan(in)
	got := map[string]OpKind{}
	for _, o := range p.ops {
		got[o.key.ID] = o.kind
	}
	want := map[string]OpKind{"new": OpAdd, "changed": OpUpdate, "adopt": OpAdopt, "gone": OpRemove, "kept": OpAdopt}
	if len(got) != len(want) {
		t.Errorf("ops %v, want %v", got, want)
	}
	for id, k := range want {
		if got[id] != k {
			t.Errorf("%s: %q, want %q", id, got[id], k)
		}
	}
	if p.collisions[copyKey{"s", "taken"}] != "b" || len(p.inSync) != 1 {
		t.Errorf("collisions %v, in sync %v", p.collisions, p.inSync)
	}
	in.canDelete = false
	if p := makePlan(in); p.removals() != 0 || len(p.held) != 1 {
		t.Errorf("before every source is listed: %d removals, %d held", p.removals(), len(p.held))
	}
}

func TestBreakerShareMinimumAndWindow(t *testing.T) {
	var b breaker
	b.cfg = BreakerConfig{MaxDeleteShare: 0.3, MinDeletes: 2, Window: time.Minute}
	now := time.Now()
	cases := []struct {
		n, copies int
		allow     bool
	}{
		{2, 3, true},    // the minimum, whatever the share
		{3, 10, true},   // 30% of 10 (recorded as done)
		{2, 10, false},  // with the 3 done within the window, 5 of 13: over 30%
		{0, 10, true},   // nothing left to delete closes it
		{10, 100, true}, // 13 of 103 within the window
	}
	for i, c := range cases {
		if got := b.allow(c.n, c.copies, now); got != c.allow {
			t.Fatalf("case %d: allow(%d of %d) = %v, want %v (%s)", i, c.n, c.copies, got, c.allow, b.reason)
		}
		if c.allow && i == 1 {
			b.record(c.n, now)
		}
	}
	if b.trips != 1 {
		t.Errorf("%d trips, want 1", b.trips)
	}
	b.allow(100, 100, now)
	b.released = true
	if !b.allow(100, 100, now) || b.open {
		t.Error("a release lets the pass delete and closes the breaker")
	}
}
