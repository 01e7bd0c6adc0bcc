package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/legacytest"
	"github.com/meshbridge/meshbridge/registrysync/meshtest"
)

// The propagation benchmark of issue 19, run only with REGISTRYSYNC_BENCH=1
// (it takes minutes per pair):
//
//	REGISTRYSYNC_BENCH=1 go test -count=1 -timeout 90m -run TestPropagationBench -v ./cmd/registrysync/
//
// For each legacy registry (REGISTRYSYNC_BENCH_PAIRS, default
// "eureka,consul,nacos,zookeeper") and each way (legacy -> mesh, mesh ->
// legacy), one pair: the source holds REGISTRYSYNC_BENCH_INSTANCES (10000)
// app instances in REGISTRYSYNC_BENCH_SERVICES (1000) services; registrysync
// runs as a process with its connectors' default settings and copies them
// all; then a burst of REGISTRYSYNC_BENCH_CHANGES (1000) changes, one
// instance per service changing its version label, is written at the
// source as fast as it takes them. A change's propagation is the time from
// its write (taken before the write is sent) to its copy carrying the new
// version at the target, as the target's store's watch (Eureka, Consul and
// Nacos stand-ins, the mesh) or a ZooKeeper client's data watch reports it.
// The syncer's CPU and RSS are read from /proc.
// REGISTRYSYNC_BENCH_WRITE_CONCURRENCY sets the engine's writeConcurrency
// and REGISTRYSYNC_BENCH_EUREKA_POLL the Eureka connector's pollInterval
// ("500ms"), for comparisons with their defaults.

const benchToken = "t0ken"

func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestPropagationBench(t *testing.T) {
	if os.Getenv("REGISTRYSYNC_BENCH") != "1" {
		t.Skip("the propagation benchmark runs with REGISTRYSYNC_BENCH=1")
	}
	size := benchSize{
		instances: benchEnv("REGISTRYSYNC_BENCH_INSTANCES", 10000),
		services:  benchEnv("REGISTRYSYNC_BENCH_SERVICES", 1000),
		changes:   benchEnv("REGISTRYSYNC_BENCH_CHANGES", 1000),
	}
	legacies := strings.Split(orDefault(os.Getenv("REGISTRYSYNC_BENCH_PAIRS"), "eureka,consul,nacos,zookeeper"), ",")
	var rows []string
	for _, kind := range legacies {
		for _, toMesh := range []bool{true, false} {
			name := "mesh->" + kind
			if toMesh {
				name = kind + "->mesh"
			}
			t.Run(name, func(t *testing.T) {
				legacy, mesh := benchLegacy(t, kind), benchMesh(t)
				src, dst := mesh, legacy
				if toMesh {
					src, dst = legacy, mesh
				}
				r := benchPair(t, size, src, dst)
				rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %d/%d |", name,
					r.initial.Round(100*time.Millisecond), ms(r.p50), ms(r.p99), ms(r.max), r.resources, r.seen, size.changes))
			})
		}
	}
	t.Logf("%d instances in %d services, a burst of %d changes\n"+
		"| pair | initial copy | p50 | p99 | max | syncer CPU idle / burst, RSS | seen |\n| --- | --- | --- | --- | --- | --- | --- |\n%s",
		size.instances, size.services, size.changes, strings.Join(rows, "\n"))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func ms(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 0, 64) + " ms" }

type benchSize struct{ instances, services, changes int }

// benchEnd is one registry of a benchmarked pair.
type benchEnd interface {
	// entry is its registry entry in registrysync's YAML, named name.
	entry(name string) string
	// load registers insts as apps do, before the syncer starts.
	load(t *testing.T, insts []*registry.Instance)
	// change writes inst's change at the source, as its app does.
	change(inst *registry.Instance) error
	// copies counts the copies it holds.
	copies(t *testing.T) (int, error)
	// observe reports when a copy whose bench-id is among ids shows
	// version v2, from now on.
	observe(t *testing.T, ids []string, seen func(id string))
	// versions reads the version of each instance (app or copy) whose
	// bench-id is among ids, for the report of a miss.
	versions(t *testing.T, ids []string) map[string]string
}

// storeEnd is a registry served over an embedded store: a stand-in or
// the mesh.
type storeEnd struct {
	store func() *embedded.Store
	keys  string // the entry's keys after name and type, "type: ...\n    key: ...\n"
}

func (e *storeEnd) entry(name string) string { return "  - name: " + name + "\n    " + e.keys }

func (e *storeEnd) load(t *testing.T, insts []*registry.Instance) {
	t.Helper()
	work := make(chan *registry.Instance)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	for range 32 {
		wg.Go(func() {
			for inst := range work {
				if _, err := e.store().Register(context.Background(), inst.Clone()); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		})
	}
	for _, inst := range insts {
		work <- inst
	}
	close(work)
	wg.Wait()
	if failed != nil {
		t.Fatal(failed)
	}
}

func (e *storeEnd) change(inst *registry.Instance) error {
	_, err := e.store().Update(context.Background(), inst.Key(), func(i *registry.Instance) error {
		i.SetMetadata("version", "v2")
		return nil
	})
	return err
}

func (e *storeEnd) copies(t *testing.T) (int, error) {
	list, _, err := e.store().List(context.Background(), registry.Filter{})
	n := 0
	for _, inst := range list {
		if registrysync.IsCopy(inst) {
			n++
		}
	}
	return n, err
}

func (e *storeEnd) observe(t *testing.T, ids []string, seen func(string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := e.store().Watch(ctx, 0, registry.WatchFilter{Kinds: []registry.ObjectKind{registry.KindInstance}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.Events() {
			if ev.Type == registry.EventPut && registrysync.IsCopy(ev.Instance) && ev.Instance.Metadata["version"] == "v2" &&
				want[ev.Instance.Metadata["bench-id"]] {
				seen(ev.Instance.Metadata["bench-id"])
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func (e *storeEnd) versions(t *testing.T, ids []string) map[string]string {
	list, _, err := e.store().List(context.Background(), registry.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, inst := range list {
		if id := inst.Metadata["bench-id"]; slices.Contains(ids, id) {
			out[id] = inst.Metadata["version"]
		}
	}
	return out
}

// zkEnd is a real ZooKeeper with Spring Cloud Zookeeper's layout.
type zkEnd struct {
	srv  *zookeepertest.Server
	conn *zk.Conn
}

func (e *zkEnd) entry(name string) string {
	return fmt.Sprintf("  - name: %s\n    type: zookeeper\n    servers: [%q]\n", name, e.srv.Addr)
}

func zkPath(inst *registry.Instance) string { return "/services/" + inst.Service + "/" + inst.ID }

// springRecord is inst as a Spring Cloud Zookeeper app registers it.
func springRecord(inst *registry.Instance) []byte {
	md := map[string]string{"instance_status": "UP"}
	for k, v := range inst.Metadata {
		md[k] = v
	}
	data, _ := json.Marshal(map[string]any{ // maps of strings and numbers: no error
		"name": inst.Service, "id": inst.ID, "address": inst.Host, "port": inst.Port, "sslPort": nil,
		"payload": map[string]any{"@class": "org.springframework.cloud.zookeeper.discovery.ZookeeperInstance",
			"id": inst.Service, "name": inst.Service, "metadata": md},
		"registrationTimeUTC": time.Now().UnixMilli(), "serviceType": "DYNAMIC",
	})
	return data
}

func (e *zkEnd) load(t *testing.T, insts []*registry.Instance) {
	t.Helper()
	acl := zk.WorldACL(zk.PermAll)
	made := map[string]bool{}
	var ops []any
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if _, err := e.conn.Multi(ops...); err != nil {
			t.Fatalf("create %d nodes: %v", len(ops), err)
		}
		ops = ops[:0]
	}
	for _, dir := range []string{"/services"} {
		if _, err := e.conn.CreateContainer(dir, nil, zk.FlagContainer, acl); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			t.Fatal(err)
		}
	}
	for _, inst := range insts {
		if dir := "/services/" + inst.Service; !made[dir] {
			flush()
			if _, err := e.conn.CreateContainer(dir, nil, zk.FlagContainer, acl); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				t.Fatal(err)
			}
			made[dir] = true
		}
		ops = append(ops, &zk.CreateRequest{Path: zkPath(inst), Data: springRecord(inst), Acl: acl, Flags: zk.FlagEphemeral})
		if len(ops) == 100 {
			flush()
		}
	}
	flush()
}

func (e *zkEnd) change(inst *registry.Instance) error {
	changed := inst.Clone()
	changed.Metadata["version"] = "v2"
	_, err := e.conn.Set(zkPath(inst), springRecord(changed), -1)
	return err
}

func (e *zkEnd) copies(t *testing.T) (int, error) {
	services, _, err := e.conn.Children("/services")
	if errors.Is(err, zk.ErrNoNode) {
		return 0, nil
	}
	n := 0
	for _, s := range services {
		ids, _, err := e.conn.Children("/services/" + s)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			return 0, err
		}
		n += len(ids)
	}
	return n, err
}

// observe sets a data watch on each copy's node; the only change a
// copy sees in the burst is its version's.
func (e *zkEnd) observe(t *testing.T, ids []string, seen func(string)) {
	t.Helper()
	for _, id := range ids {
		_, _, ch, err := e.conn.GetW("/services/" + id)
		if err != nil {
			t.Fatalf("watch %s: %v", id, err)
		}
		go func() {
			if ev := <-ch; ev.Type == zk.EventNodeDataChanged {
				seen(id)
			}
		}()
	}
}

func (e *zkEnd) versions(t *testing.T, ids []string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		data, _, err := e.conn.Get("/services/" + id)
		var rec struct {
			Payload struct{ Metadata map[string]string } `json:"payload"`
		}
		if err == nil && json.Unmarshal(data, &rec) == nil {
			out[id] = rec.Payload.Metadata["version"]
		}
	}
	return out
}

func benchMesh(t *testing.T) benchEnd {
	p := meshtest.Start(t, meshtest.Options{Token: benchToken})
	return &storeEnd{store: p.Store, keys: fmt.Sprintf("type: mesh\n    url: %s\n    token: %s\n", p.URL, benchToken)}
}

// benchLegacy starts a legacy registry of kind, at its connector's
// default settings but its address.
func benchLegacy(t *testing.T, kind string) benchEnd {
	switch kind {
	case "eureka":
		e := legacytest.StartEureka(t)
		keys := fmt.Sprintf("type: eureka\n    urls: [%q]\n", e.URL)
		if d := os.Getenv("REGISTRYSYNC_BENCH_EUREKA_POLL"); d != "" {
			keys += "    pollInterval: " + d + "\n"
		}
		return &storeEnd{store: func() *embedded.Store { return e.Store }, keys: keys}
	case "consul":
		c := legacytest.StartConsul(t)
		return &storeEnd{store: func() *embedded.Store { return c.Store }, keys: fmt.Sprintf("type: consul\n    address: %q\n", c.Addr)}
	case "nacos":
		n := legacytest.StartNacos(t)
		return &storeEnd{store: func() *embedded.Store { return n.Store },
			keys: fmt.Sprintf("type: nacos\n    servers: [%q]\n    grpcPort: %d\n    logLevel: error\n", n.HTTPAddr, n.GRPCPort)}
	case "zookeeper":
		srv := zookeepertest.Start(t)
		return &zkEnd{srv: srv, conn: srv.Connect(t, 30*time.Second)}
	}
	t.Fatalf("REGISTRYSYNC_BENCH_PAIRS: no legacy registry %q", kind)
	return nil
}

type benchResult struct {
	initial, p50, p99, max time.Duration
	resources              string
	seen                   int
}

func benchPair(t *testing.T, size benchSize, src, dst benchEnd) benchResult {
	var insts []*registry.Instance
	for i := range size.instances {
		svc := fmt.Sprintf("svc-%04d", i%size.services)
		id := fmt.Sprintf("%s-%d", svc, i/size.services)
		inst := &registry.Instance{Service: svc, ID: id, Host: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
			Port: 8080, Metadata: map[string]string{"version": "v1", "bench-id": svc + "/" + id}}
		inst.Normalize() // its Key, as the store keys it
		insts = append(insts, inst)
	}
	src.load(t, insts)

	admin := loopback.Addr(t)
	cfg := "id: bench\nregistries:\n" + src.entry("src") + dst.entry("dst") +
		"pairs:\n  - {from: src, to: dst}\nadmin:\n  listen: " + admin + "\nlog:\n  level: warn\n"
	if n := os.Getenv("REGISTRYSYNC_BENCH_WRITE_CONCURRENCY"); n != "" {
		cfg += "engine:\n  writeConcurrency: " + n + "\n"
	}
	path := filepath.Join(t.TempDir(), "registrysync.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p := startSyncerWith(t, path, admin)
	t.Cleanup(func() {
		if t.Failed() {
			if st, err := status(admin); err == nil {
				out, _ := json.MarshalIndent(st, "", "  ")
				t.Logf("registrysync /status:\n%s", out)
			}
		}
	})
	poll.UntilNil(t, "every instance copied", func() error {
		n, err := dst.copies(t)
		if err == nil && n != len(insts) {
			err = fmt.Errorf("%d copies of %d", n, len(insts))
		}
		return err
	}, poll.Within(15*time.Minute))
	r := benchResult{initial: time.Since(start)}

	idle := p.cpu(t)
	time.Sleep(10 * time.Second) // the steady state: renewals, watches
	idleCPU := (p.cpu(t) - idle).Seconds() / 10

	// The burst: the first changes instances, one per service.
	changed := insts[:min(size.changes, len(insts))]
	ids := make([]string, len(changed))
	for i, inst := range changed {
		ids[i] = inst.Metadata["bench-id"]
	}
	var mu sync.Mutex
	written, seenAt := map[string]time.Time{}, map[string]time.Time{}
	dst.observe(t, ids, func(id string) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if _, ok := seenAt[id]; !ok {
			seenAt[id] = now
		}
	})
	syncerWait, selfWait := runWait(p.Cmd.Process.Pid), runWait(os.Getpid())
	burstCPU, selfCPU, burstStart := p.cpu(t), cpuOf(t, os.Getpid()), time.Now()
	work := make(chan *registry.Instance)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for inst := range work {
				mu.Lock()
				written[inst.Metadata["bench-id"]] = time.Now()
				mu.Unlock()
				if err := src.change(inst); err != nil {
					t.Errorf("change %s: %v", inst.ID, err)
				}
			}
		})
	}
	for _, inst := range changed {
		work <- inst
	}
	close(work)
	wg.Wait()
	writing := time.Since(burstStart)
	// A pair that misses changes is reported with what it did carry
	// (the table's "seen"), not cut off.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n := len(seenAt)
		mu.Unlock()
		if n == len(changed) {
			break
		}
		if time.Now().After(deadline) {
			var missed []string
			mu.Lock()
			for _, id := range ids {
				if _, ok := seenAt[id]; !ok {
					missed = append(missed, id)
				}
			}
			mu.Unlock()
			missed = missed[:min(len(missed), 10)]
			t.Errorf("%d of %d changes at the target within 2m of the burst; of the first missed, the source holds versions %v, the target %v",
				n, len(changed), src.versions(t, missed), dst.versions(t, missed))
			break
		}
	}
	burstSecs := time.Since(burstStart).Seconds()
	burst := (p.cpu(t) - burstCPU).Seconds() / burstSecs
	syncerWait, selfWait = runWait(p.Cmd.Process.Pid)-syncerWait, runWait(os.Getpid())-selfWait
	selfCPU = cpuOf(t, os.Getpid()) - selfCPU

	mu.Lock()
	var lat []time.Duration
	for id, at := range seenAt {
		lat = append(lat, at.Sub(written[id]))
	}
	mu.Unlock()
	slices.Sort(lat)
	r.seen = len(lat)
	if len(lat) > 0 {
		r.p50, r.p99, r.max = lat[len(lat)*50/100], lat[min(len(lat)*99/100, len(lat)-1)], lat[len(lat)-1]
	}
	rss, hwm := p.memory(t)
	r.resources = fmt.Sprintf("%.0f%% / %.0f%% of a core, %d MiB (peak %d MiB)", idleCPU*100, burst*100, rss>>20, hwm>>20)
	t.Logf("initial copy %v; burst of %d written in %v; p50 %v p99 %v max %v; %s; "+
		"in the burst's %.1f s, threads ready to run but waiting for a CPU: the syncer's %v, the test process's %v "+
		"(the test process, which holds both registries, used %v of CPU)",
		r.initial, len(changed), writing, r.p50, r.p99, r.max, r.resources,
		burstSecs, syncerWait.Round(time.Millisecond), selfWait.Round(time.Millisecond), selfCPU)
	return r
}

// cpu is the process's CPU time so far (user and system), from /proc.
func (p *proc) cpu(t *testing.T) time.Duration {
	t.Helper()
	return cpuOf(t, p.Cmd.Process.Pid)
}

// cpuOf is process pid's CPU time so far (user and system), from /proc.
func cpuOf(t *testing.T, pid int) time.Duration {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command's ")": state is field 3; utime and
	// stime are fields 14 and 15, in clock ticks (100 a second on Linux).
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// runWait is the time the threads of process pid spent ready to run but
// waiting for a CPU (the second field of each thread's schedstat, in ns):
// on a shared machine it tells waiting for work from waiting for a core.
// Threads that ended are not counted; 0 where schedstat is missing.
func runWait(pid int) time.Duration {
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum int64
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if f := strings.Fields(string(data)); err == nil && len(f) >= 2 {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			sum += ns
		}
	}
	return time.Duration(sum)
}

// memory is the process's resident set and its peak, in bytes.
func (p *proc) memory(t *testing.T) (rss, peak int64) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return rss, peak
}
