package registrysync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
)

// Bad input: a record the target cannot hold (here an app the mesh holds
// natively where the copy would go, and a record a transformer turns
// invalid) is an error naming the pair and the record; nothing is
// written for it, and the rest goes on.
func TestBadRecordsAreReportedAndTheRestGoesOn(t *testing.T) {
	a, m := planes(t)
	register(t, a, app("orders", "orders-1"), app("orders", "taken-1"), app("orders", "bad-1"), app("pay", "pay-1"))
	register(t, m, app("orders", "taken-1"))
	var calls atomic.Int64
	transform := func(_ context.Context, inst *registry.Instance) (*registry.Instance, error) {
		calls.Add(1)
		out := inst.Clone()
		out.SetMetadata("synced-by", "plugin")
		if inst.ID == "bad-1" {
			out.Host = "not a host"
		}
		return out, nil
	}
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)}, registrysync.PairConfig{From: "a", To: "m", Transformers: []string{"tagger"}})
	s := run(t, cfg, registrysync.Options{Transformers: map[int]registrysync.TransformFunc{0: transform}})
	holds(t, m, within, "orders/taken-1", "orders/orders-1<-a", "pay/pay-1<-a")
	got, err := m.Client.Instance(context.Background(), registry.NewInstanceKey("", "", "pay", "pay-1"))
	if err != nil || got.Metadata["synced-by"] != "plugin" {
		t.Fatalf("the transformer's change is not on the copy: %+v, %v", got, err)
	}
	poll.UntilNil(t, "both records reported", func() error {
		st := s.flow(t, "a", "m")
		var records []string
		for _, e := range st.Errors {
			records = append(records, e.Record+" "+e.Op)
		}
		joined := strings.Join(records, ", ")
		if !strings.Contains(joined, "orders/taken-1 put") || !strings.Contains(joined, "orders/bad-1 record") || st.States["failed"] != 2 {
			return fmt.Errorf("errors %s, states %v", joined, st.States)
		}
		return nil
	}, poll.Within(within))
	// An unchanged record does not call the plugins again.
	before := calls.Load()
	register(t, a, app("pay", "pay-2"))
	holds(t, m, within, "orders/taken-1", "orders/orders-1<-a", "pay/pay-1<-a", "pay/pay-2<-a")
	if n := calls.Load() - before; n != 1 { // pay-1, in pay-2's service, is not transformed again
		t.Errorf("%d transformer calls for one new record", n)
	}
}

// A transformer that cannot answer leaves the record's copy as it is,
// alive: a plugin down is not a reason to delete.
func TestFailingTransformerKeepsTheCopy(t *testing.T) {
	a, m := planes(t)
	register(t, a, app("orders", "orders-1"))
	var down atomic.Bool
	transform := func(_ context.Context, inst *registry.Instance) (*registry.Instance, error) {
		if down.Load() {
			return nil, errors.New("plugin unavailable")
		}
		return inst, nil
	}
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)}, registrysync.PairConfig{From: "a", To: "m"})
	cfg.Engine.AntiEntropyInterval = time.Second
	run(t, cfg, registrysync.Options{Transformers: map[int]registrysync.TransformFunc{0: transform}})
	holds(t, m, within, "orders/orders-1<-a")
	deleted := deletions(t, m)
	down.Store(true)
	register(t, a, app("orders", "orders-2")) // a pass with the plugin down
	time.Sleep(3 * time.Second)               // anti-entropy passes, too: nothing to wait for
	if got := deleted(); len(got) > 0 {
		t.Fatalf("deleted %v while the plugin was down", got)
	}
	down.Store(false)
	holds(t, m, within, "orders/orders-1<-a", "orders/orders-2<-a")
}

func TestDryRunPrintsThePlanAndWritesNothing(t *testing.T) {
	a, m := planes(t)
	register(t, a, app("orders", "orders-1"), app("pay", "pay-1"))
	register(t, m, meshCopy(app("stale", "s-1"), "a", "syncer-1"))
	cfg := config([]registrysync.RegistryConfig{meshRegistry("a", a), meshRegistry("m", m)}, registrysync.PairConfig{From: "a", To: "m"})
	s, err := registrysync.New(cfg, registrysync.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	plans, err := s.DryRun(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := registrysync.WritePlan(&out, plans); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pairs[0] a -> m: 2 to add, 0 to update, 1 to remove", "add    orders/orders-1", "add    pay/pay-1", "remove stale/s-1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, out.String())
		}
	}
	holds(t, m, time.Second, "stale/s-1<-a")
	// A source that cannot be listed makes no plan.
	a.Stop()
	short, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if _, err := s.DryRun(short); err == nil || !strings.Contains(err.Error(), `registry "a"`) {
		t.Fatalf("dry run without its source: %v", err)
	}
}
