package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/app/apptest"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// The "Show it" tests run registrysync as a process (kill -9 is
// the point) between meshes in-process on loopback (the control API over
// the embedded store, as registry-adapter serves them). They run small
// in `make test`; REGISTRYSYNC_FULL=1 runs the sizes (20
// restarts, 200 services with 60s of churn, a 60s outage).
func full() bool { return os.Getenv("REGISTRYSYNC_FULL") == "1" }

func size(small, big int) int {
	if full() {
		return big
	}
	return small
}

// proc is a running registrysync.
type proc struct {
	*apptest.Process
	admin string
}

// startSyncer runs registrysync with the configuration c until the test
// ends, and waits until its admin listener answers.
func startSyncer(t *testing.T, c syncerConfig) *proc {
	t.Helper()
	if c.Admin == "" {
		c.Admin = loopback.Addr(t)
	}
	return startSyncerWith(t, c.write(t), c.Admin)
}

// startSyncerWith runs registrysync with the configuration file config,
// whose admin listener is admin, as startSyncer does.
func startSyncerWith(t *testing.T, config, admin string) *proc {
	t.Helper()
	bin := apptest.Build(t, ".")["registrysync"]
	p := &proc{Process: apptest.Start(t, bin, "--config", config), admin: admin}
	poll.UntilNil(t, "registrysync answering", func() error {
		select {
		case <-p.Exited():
			t.Fatalf("registrysync exited:\n%s", p.Output())
		default:
		}
		_, err := status(p.admin)
		return err
	}, poll.Within(20*time.Second))
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
}

func (p *proc) status(t *testing.T) registrysync.Status {
	t.Helper()
	st, err := status(p.admin)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// changes records what happens to p's instances from now on, until the
// test ends.
type changes struct {
	mu     sync.Mutex
	events []registry.Event
	// wrote is signalled whenever a copy is written.
	wrote chan struct{}
}

func watchChanges(t *testing.T, p *meshtest.Plane) *changes {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := p.Store().Watch(ctx, 0, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}})
	if err != nil {
		t.Fatal(err)
	}
	c := &changes{wrote: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range w.Events() {
			c.mu.Lock()
			c.events = append(c.events, e)
			c.mu.Unlock()
			if copyWritten(e) {
				select {
				case c.wrote <- struct{}{}:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

// count counts the events matching ok.
func (c *changes) count(ok func(registry.Event) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.events {
		if ok(e) {
			n++
		}
	}
	return n
}

func (c *changes) mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// since counts the events after mark matching ok.
func (c *changes) since(mark int, ok func(registry.Event) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.events[mark:] {
		if ok(e) {
			n++
		}
	}
	return n
}

// keyOf is an app's key as the store makes it.
func keyOf(inst *registry.Instance) registry.InstanceKey {
	return registry.NewInstanceKey(inst.Namespace, inst.Group, inst.Service, inst.ID)
}

func copyDeleted(e registry.Event) bool {
	return e.Type == registry.EventDelete && registrysync.IsCopy(e.Instance)
}

func copyWritten(e registry.Event) bool {
	return e.Type == registry.EventPut && registrysync.IsCopy(e.Instance)
}

// sameCopies waits until the copies in target are exactly the natives of
// source, origin marked, with the same address and metadata.
func sameCopies(t *testing.T, within time.Duration, source, target *meshtest.Plane, origin string) time.Duration {
	t.Helper()
	start := time.Now()
	poll.UntilNil(t, "the copies in step", func() error {
		src, _, err := source.Client.Instances(meshtest.Ctx(t), registry.Filter{})
		if err != nil {
			return err
		}
		dst, _, err := target.Client.Instances(meshtest.Ctx(t), registry.Filter{})
		if err != nil {
			return err
		}
		want := map[string]string{}
		for _, inst := range src {
			if !registrysync.IsCopy(inst) {
				want[inst.Key().String()] = inst.Address() + " " + inst.Metadata["rev"]
			}
		}
		got := map[string]string{}
		for _, inst := range dst {
			if inst.Metadata[registrysync.MetaOrigin] != origin {
				continue
			}
			k := inst.Key().String()
			if _, dup := got[k]; dup {
				return fmt.Errorf("a duplicate copy of %s", k)
			}
			got[k] = inst.Address() + " " + inst.Metadata["rev"]
		}
		if len(got) != len(want) {
			var extra []string
			for k, v := range got {
				if _, ok := want[k]; !ok {
					extra = append(extra, k+" "+v)
				}
			}
			return fmt.Errorf("%d copies of %d instances (extra: %v)", len(got), len(want), extra)
		}
		for k, v := range want {
			if got[k] != v {
				return fmt.Errorf("copy of %s: %q, want %q", k, got[k], v)
			}
		}
		return nil
	}, poll.Within(within))
	return time.Since(start)
}

// TestKill9RestartsMidPassRemoveNothing kills the syncer without warning
// while it writes, again and again, the source changing in between, and
// checks that no copy was removed, by the syncer or by expiry, and that
// the copies end in step with the source without duplicates.
func TestKill9RestartsMidPassRemoveNothing(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken", ExpiryInterval: 200 * time.Millisecond})
	services, perService, restarts := size(40, 200), 5, size(5, 20)
	var apps []*registry.Instance
	for s := range services {
		for i := range perService {
			inst := app1(fmt.Sprintf("svc-%03d", s), fmt.Sprintf("svc-%03d-%d", s, i))
			inst.Metadata["rev"] = "0"
			apps = append(apps, inst)
		}
	}
	register(t, legacy, apps...)
	changed := watchChanges(t, m)
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Pairs: []pairRef{{"legacy", "mesh", "one-way", ""}}}
	killedWriting := 0
	for r := range restarts {
		// Each run has writing to do: half the instances change.
		due := 0
		for i := r % 2; i < len(apps); i += 2 {
			apps[i].Metadata["rev"] = fmt.Sprint(r + 1)
			register(t, legacy, apps[i])
			due++
		}
		if r == 0 {
			due = len(apps) // nothing was copied yet
		}
		before := changed.count(copyWritten)
		select {
		case <-changed.wrote: // what the last run wrote before it died
		default:
		}
		p := startSyncer(t, cfg)
		// Kill it while it writes: as soon as a write of this run landed.
		select {
		case <-changed.wrote:
		case <-time.After(20 * time.Second):
			t.Fatal("no write within 20s")
		}
		p.kill(t)
		wrote := changed.count(copyWritten) - before
		if wrote < due {
			killedWriting++
		}
		t.Logf("restart %d: killed after %d of %d writes", r+1, wrote, due)
	}
	p := startSyncer(t, cfg)
	took := sameCopies(t, 30*time.Second, legacy, m, "legacy")
	deleted := changed.count(copyDeleted)
	t.Logf("%d kill -9 restarts (%d of them before the run's writes were done): %d copies removed; in step %v after the last start; %d writes in all for %d instances",
		restarts, killedWriting, deleted, took, changed.count(copyWritten), len(apps))
	if deleted != 0 {
		t.Fatalf("%d copies removed across the restarts", deleted)
	}
	if killedWriting == 0 {
		t.Fatal("no run was killed while it still had writes to do: the test shows nothing")
	}
	if st := p.status(t); st.Pairs[0].States["in_sync"] != len(apps) {
		t.Fatalf("after the last start: %+v", st.Pairs[0])
	}
}

// TestHATakeoverAfterKill9 runs two replicas elected through the mesh's
// control API; the writer is killed -9, and the other must take over
// within the election's ttl without writing the copies again.
func TestHATakeoverAfterKill9(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken", ExpiryInterval: 200 * time.Millisecond})
	var apps []*registry.Instance
	for s := range size(20, 100) {
		for i := range 2 {
			apps = append(apps, app1(fmt.Sprintf("svc-%03d", s), fmt.Sprintf("svc-%03d-%d", s, i)))
		}
	}
	register(t, legacy, apps...)
	const ttl = 3 * time.Second
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Pairs: []pairRef{{"legacy", "mesh", "one-way", ""}},
		Election: "mesh", TTL: ttl}
	one, two := startSyncer(t, cfg), startSyncer(t, cfg)
	sameCopies(t, 30*time.Second, legacy, m, "legacy")
	var leader, standby *proc
	poll.UntilNil(t, "one leader", func() error {
		a, b := one.status(t).Leader, two.status(t).Leader
		switch {
		case a && b:
			t.Fatal("two replicas write at once")
		case a:
			leader, standby = one, two
		case b:
			leader, standby = two, one
		default:
			return fmt.Errorf("no leader")
		}
		return nil
	}, poll.Within(10*time.Second))
	changed := watchChanges(t, m)
	leader.kill(t)
	killed := time.Now()
	poll.UntilNil(t, "the standby leading", func() error {
		if !standby.status(t).Leader {
			return fmt.Errorf("still standing by")
		}
		return nil
	}, poll.Within(ttl+5*time.Second))
	took := time.Since(killed)
	// The new leader adopts the copies: listed, compared, renewed, none
	// written again. Give its first pass time to run.
	poll.UntilNil(t, "the first pass done", func() error {
		for _, f := range standby.status(t).Pairs {
			if f.LastFullSync == nil || f.States["in_sync"] != len(apps) {
				return fmt.Errorf("flow %+v", f)
			}
		}
		return nil
	}, poll.Within(10*time.Second))
	rewritten, deleted := changed.count(copyWritten), changed.count(copyDeleted)
	t.Logf("takeover %v after kill -9 (ttl %v); %d copies written again, %d removed, of %d", took, ttl, rewritten, deleted, len(apps))
	if took > ttl+time.Second {
		t.Errorf("takeover took %v; want within the ttl %v (a second allowed for polling)", took, ttl)
	}
	if rewritten != 0 || deleted != 0 {
		t.Errorf("the takeover wrote %d copies again and removed %d", rewritten, deleted)
	}
	// The new leader writes what changes.
	moved := app1("svc-000", "svc-000-9")
	register(t, legacy, moved)
	sameCopies(t, 10*time.Second, legacy, m, "legacy")
}

// TestOutageOfTheSource stops the source registry: its copies stay, kept
// alive, and nothing is deleted; when it returns, a change made at once
// reaches the target within 5s.
func TestOutageOfTheSource(t *testing.T) {
	legacy := meshtest.Start(t, meshtest.Options{Token: "t0ken"})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken", ExpiryInterval: 200 * time.Millisecond})
	var apps []*registry.Instance
	for s := range 50 {
		apps = append(apps, app1(fmt.Sprintf("svc-%03d", s), fmt.Sprintf("svc-%03d-0", s)))
	}
	register(t, legacy, apps...)
	cfg := syncerConfig{Registries: []planeRef{{"legacy", legacy.URL}, {"mesh", m.URL}}, Pairs: []pairRef{{"legacy", "mesh", "one-way", ""}},
		Lease: 4 * time.Second, Renew: time.Second, AntiEntropy: 2 * time.Second, DefaultBackoff: true}
	startSyncer(t, cfg)
	sameCopies(t, 20*time.Second, legacy, m, "legacy")
	changed := watchChanges(t, m)
	outage := time.Duration(size(8, 60)) * time.Second
	legacy.Stop()
	time.Sleep(outage) // the outage itself: nothing to wait for
	if n := changed.count(copyDeleted); n != 0 {
		t.Fatalf("%d copies removed during a %v outage of the source", n, outage)
	}
	legacy.Restart()
	back := time.Now()
	register(t, legacy, app1("svc-new", "svc-new-0"))
	if err := legacy.Client.Deregister(meshtest.Ctx(t), keyOf(apps[0])); err != nil {
		t.Fatal(err)
	}
	took := sameCopies(t, 5*time.Second, legacy, m, "legacy")
	t.Logf("outage %v: %d copies removed; back: in step %v after the source returned (%v after the check began)",
		outage, changed.count(copyDeleted)-1, time.Since(back), took)
}

// TestLoopBothWaysWithChurn copies A<->M both ways while apps come, go
// and change on both sides: no echo (a copy of a copy, a copy back where
// it came from), no instance but a copy deleted by the syncer, the
// copies in step after the churn, and then nothing written at all.
func TestLoopBothWaysWithChurn(t *testing.T) {
	a := meshtest.Start(t, meshtest.Options{Token: "t0ken", ExpiryInterval: 200 * time.Millisecond})
	m := meshtest.Start(t, meshtest.Options{Token: "t0ken", ExpiryInterval: 200 * time.Millisecond})
	services := size(40, 200)
	churn := time.Duration(size(6, 60)) * time.Second
	natives := map[*meshtest.Plane]map[string]*registry.Instance{a: {}, m: {}}
	for s := range services {
		for _, side := range []struct {
			p    *meshtest.Plane
			name string
		}{{a, "a"}, {m, "m"}} {
			inst := app1(fmt.Sprintf("svc-%03d", s), fmt.Sprintf("%s-%03d-0", side.name, s))
			inst.Metadata["rev"] = "0"
			register(t, side.p, inst)
			natives[side.p][keyOf(inst).String()] = inst
		}
	}
	atA, atM := watchChanges(t, a), watchChanges(t, m)
	p := startSyncer(t, syncerConfig{Registries: []planeRef{{"a", a.URL}, {"m", m.URL}}, Pairs: []pairRef{{"a", "m", "both", ""}}, AntiEntropy: 2 * time.Second,
		BreakerOff: true}) // the churn deletes a third of the copies a minute: the breaker would hold them
	sameCopies(t, 30*time.Second, a, m, "a")
	sameCopies(t, 30*time.Second, m, a, "m")

	// Churn: on either side, an app registers, leaves or changes, about
	// 50 times a second.
	deregistered := map[string]bool{}
	end := time.Now().Add(churn)
	ops := 0
	for n := 0; time.Now().Before(end); n++ {
		side, name := a, "a"
		if n%2 == 1 {
			side, name = m, "m"
		}
		svc := fmt.Sprintf("svc-%03d", (n*7)%services)
		switch n % 3 {
		case 0:
			inst := app1(svc, fmt.Sprintf("%s-%03d-%d", name, (n*7)%services, n))
			inst.Metadata["rev"] = "0"
			register(t, side, inst)
			natives[side][keyOf(inst).String()] = inst
		case 1:
			for k, inst := range natives[side] {
				if inst.Service == svc {
					if err := side.Client.Deregister(meshtest.Ctx(t), keyOf(inst)); err != nil {
						t.Fatal(err)
					}
					deregistered[k] = true
					delete(natives[side], k)
					break
				}
			}
		case 2:
			for _, inst := range natives[side] {
				if inst.Service == svc {
					inst.Metadata["rev"] = fmt.Sprint(n)
					register(t, side, inst)
					break
				}
			}
		}
		ops++
		time.Sleep(20 * time.Millisecond)
	}
	converge := time.Now()
	sameCopies(t, 30*time.Second, a, m, "a")
	sameCopies(t, 30*time.Second, m, a, "m")
	tookToConverge := time.Since(converge)

	echo := func(home string) func(registry.Event) bool {
		return func(e registry.Event) bool {
			return e.Type == registry.EventPut && e.Instance.Metadata[registrysync.MetaOrigin] == home
		}
	}
	foreign := func(e registry.Event) bool {
		return e.Type == registry.EventDelete && !registrysync.IsCopy(e.Instance) && !deregistered[e.Instance.Key().String()]
	}
	echoes := atA.count(echo("a")) + atM.count(echo("m"))
	foreignDeletes := atA.count(foreign) + atM.count(foreign)
	var recordErrors []registrysync.RecordError
	for _, f := range p.status(t).Pairs {
		recordErrors = append(recordErrors, f.Errors...)
	}

	// Steady state: two anti-entropy passes and more, nothing written.
	markA, markM := atA.mark(), atM.mark()
	time.Sleep(5 * time.Second) // the quiet itself is what is measured
	steady := atA.since(markA, func(registry.Event) bool { return true }) + atM.since(markM, func(registry.Event) bool { return true })

	t.Logf("A<->M, %d services, %v of churn (%d changes): %d echoes, %d foreign deletes, %d record errors; in step %v after the churn; %d writes in 5s of steady state",
		services, churn, ops, echoes, foreignDeletes, len(recordErrors), tookToConverge, steady)
	if echoes != 0 || foreignDeletes != 0 || len(recordErrors) != 0 {
		t.Errorf("echoes %d, foreign deletes %d, record errors %v", echoes, foreignDeletes, recordErrors)
	}
	if steady != 0 {
		t.Errorf("%d writes in steady state", steady)
	}
}
