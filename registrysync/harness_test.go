package registrysync_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/connectortest"
	"github.com/meshbridge/meshbridge/registrysync/mesh"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// The engine's rules are shown between two meshes (control planes
// in-process on loopback, the control API over the embedded store) with
// the mesh connector at both ends: a registry the syncer reads and
// writes through the same code as any other.

const token = "t0ken"

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// meshRegistry is a registry entry of type mesh for plane p.
func meshRegistry(name string, p *meshtest.Plane) registrysync.RegistryConfig {
	cfg := mesh.NewConfig()
	cfg.URL, cfg.Token = p.URL, token
	cfg.LeaseDuration, cfg.RenewInterval = 4*time.Second, 500*time.Millisecond
	cfg.WatchWait, cfg.RetryMaxBackoff = 2*time.Second, 200*time.Millisecond
	return registrysync.RegistryConfig{Name: name, Type: "mesh", Settings: cfg}
}

func testEngine() registrysync.EngineConfig {
	e := registrysync.DefaultEngineConfig()
	e.AntiEntropyInterval, e.RelistInterval, e.RetryInterval = 30*time.Second, 0, 200*time.Millisecond
	return e
}

// config syncs the registries with one pair per entry of pairs.
func config(regs []registrysync.RegistryConfig, pairs ...registrysync.PairConfig) registrysync.SyncConfig {
	cfg := registrysync.SyncConfig{ID: "syncer-1", Registries: regs, Pairs: pairs, Engine: testEngine()}
	return cfg
}

// running is a syncer run by a test.
type running struct {
	*registrysync.Syncer
	metrics *prometheus.Registry
	stop    func()
}

// run starts a syncer until the test ends or stop.
func run(t *testing.T, cfg registrysync.SyncConfig, opts registrysync.Options) *running {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	opts.Logger, opts.Metrics = quiet(), reg
	s, err := registrysync.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("the syncer did not stop within 20s")
			}
		})
	}
	t.Cleanup(stop)
	return &running{Syncer: s, metrics: reg, stop: stop}
}

// counter reads a counter's value summed over the series matching labels.
func (r *running) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := r.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// caughtUp waits until r leads and every flow has applied what it has
// seen (no lag). The targets show a write before the syncer has its
// answer and counts it, so counters are read after this, not after the
// targets hold what they should.
func (r *running) caughtUp(t *testing.T) {
	t.Helper()
	poll.UntilNil(t, "the syncer caught up", func() error {
		st := r.Status()
		if !st.Leader {
			return fmt.Errorf("not leading")
		}
		for _, f := range st.Pairs {
			if f.LagSeconds != 0 {
				return fmt.Errorf("%s -> %s lags %.3fs", f.From, f.To, f.LagSeconds)
			}
		}
		return nil
	}, poll.Within(within))
}

func (r *running) flow(t *testing.T, from, to string) registrysync.FlowStatus {
	t.Helper()
	for _, f := range r.Status().Pairs {
		if f.From == from && f.To == to {
			return f
		}
	}
	t.Fatalf("no flow %s -> %s", from, to)
	return registrysync.FlowStatus{}
}

// app is an instance as an app registers it (no lease: it stays).
func app(service, id string) *registry.Instance {
	return &registry.Instance{Service: service, ID: id, Host: "10.0.0.1", Port: 8080,
		Metadata: map[string]string{"version": "v1"}}
}

// meshCopy is inst as a mesh sink of owner writes a copy from origin.
func meshCopy(inst *registry.Instance, origin, owner string) *registry.Instance {
	c := connectortest.Copy(inst, origin, owner)
	c.Origin = "sync:" + owner
	return c
}

func register(t *testing.T, p *meshtest.Plane, insts ...*registry.Instance) {
	t.Helper()
	for _, inst := range insts {
		if _, err := p.Client.Register(meshtest.Ctx(t), inst); err != nil {
			t.Fatalf("register %s/%s: %v", inst.Service, inst.ID, err)
		}
	}
}

func deregister(t *testing.T, p *meshtest.Plane, insts ...*registry.Instance) {
	t.Helper()
	for _, inst := range insts {
		if err := p.Client.Deregister(meshtest.Ctx(t), registry.NewInstanceKey(inst.Namespace, inst.Group, inst.Service, inst.ID)); err != nil {
			t.Fatalf("deregister %s/%s: %v", inst.Service, inst.ID, err)
		}
	}
}

// holding lists what p holds as "service/id" (copies as
// "service/id<-origin"), sorted.
func holding(t *testing.T, p *meshtest.Plane) []string {
	t.Helper()
	list, _, err := p.Client.Instances(meshtest.Ctx(t), registry.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, inst := range list {
		s := inst.ServiceKey + "/" + inst.ID
		if registrysync.IsCopy(inst) {
			s += "<-" + inst.Metadata[registrysync.MetaOrigin]
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// holds waits until p holds exactly want.
func holds(t *testing.T, p *meshtest.Plane, within time.Duration, want ...string) {
	t.Helper()
	sort.Strings(want)
	poll.UntilNil(t, "the registry's content", func() error {
		if got := holding(t, p); fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("holds %v, want %v", got, want)
		}
		return nil
	}, poll.Within(within))
}

// deletions records the copies deleted from p from now on (expiries
// included), until the test ends.
func deletions(t *testing.T, p *meshtest.Plane) func() []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := p.Store().Watch(ctx, 0, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range w.Events() {
			if e.Type == registry.EventDelete && registrysync.IsCopy(e.Instance) {
				mu.Lock()
				got = append(got, e.Instance.ServiceKey+"/"+e.Instance.ID+" ("+e.Reason+")")
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// deletedAlone waits until deleted reports one deletion, of the copy
// named (the watch reports after the fact), and fails on any other.
func deletedAlone(t *testing.T, deleted func() []string, copy string) {
	t.Helper()
	poll.UntilNil(t, copy+" deleted, alone", func() error {
		got := deleted()
		switch {
		case len(got) > 1 || len(got) == 1 && !strings.HasPrefix(got[0], copy+" "):
			t.Fatalf("deleted %v, want %s alone", got, copy)
		case len(got) == 0:
			return fmt.Errorf("nothing deleted")
		}
		return nil
	})
}
