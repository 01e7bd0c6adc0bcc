package consul

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/etcd"
	"github.com/meshbridge/meshbridge/registry/etcd/etcdtest"
)

// wrappedStore decorates a store as plugin transformers do: its optional
// interfaces are found only through Unwrap.
type wrappedStore struct{ registry.Store }

func (w wrappedStore) Unwrap() registry.Store { return w.Store }

// newReplicas runs two adapters ("replicas") over one etcd store prefix,
// each with its own etcd client, and a short election session TTL. It
// returns them and their clients. With wrap, each adapter gets its store
// wrapped, its election found through Unwrap.
func newReplicas(t *testing.T, wrap bool) ([2]*testEnv, [2]*clientv3.Client) {
	t.Helper()
	cli := etcdtest.Start(t)
	var envs [2]*testEnv
	var clis [2]*clientv3.Client
	for i := range envs {
		c, err := clientv3.New(clientv3.Config{Endpoints: cli.Endpoints(), DialTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		st, err := etcd.Open(context.Background(), etcd.Options{Client: c, Prefix: "/replicas/", SessionTTL: time.Second,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if wrap {
			envs[i] = newEnvOver(t, wrappedStore{st})
		} else {
			envs[i] = newEnvOver(t, st)
		}
		clis[i] = c
	}
	poll.Until(t, "one replica leads", func() bool { return envs[0].srv.leading.Load() != envs[1].srv.leading.Load() })
	return envs, clis
}

// leader returns the index of the leading replica, failing if not exactly one leads.
func leader(t *testing.T, envs [2]*testEnv) int {
	t.Helper()
	a, b := envs[0].srv.leading.Load(), envs[1].srv.leading.Load()
	if a == b {
		t.Fatalf("replicas leading: %v, %v; want exactly one", a, b)
	}
	if a {
		return 0
	}
	return 1
}

func httpProbes(e *testEnv) float64 {
	return testutil.ToFloat64(e.srv.met.probes.WithLabelValues(typeHTTP, statusPassing))
}

// Only the leading replica probes; when it stops, the other takes over.
func TestReplicasProbeOnceAndHandOver(t *testing.T) {
	var hits atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer app.Close()
	envs, _ := newReplicas(t, false)
	const interval = 200 * time.Millisecond
	if err := envs[0].client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80,
		Check: &api.AgentServiceCheck{HTTP: app.URL, Interval: interval.String(), Timeout: "1s"}}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "first probe", func() bool { return hits.Load() > 0 }, poll.Within(5*time.Second))
	lead := leader(t, envs)
	before := hits.Load()
	start := time.Now()
	time.Sleep(1500 * time.Millisecond) // the observation window, not a synchronisation
	n, window := hits.Load()-before, time.Since(start)
	if limit := int64(window/interval) + 2; n > limit {
		t.Fatalf("%d probes in %v at a %v interval: more than one replica probes", n, window, interval)
	}
	if n == 0 {
		t.Fatal("no probes in the window")
	}
	if f := httpProbes(envs[1-lead]); f != 0 {
		t.Fatalf("the follower ran %v probes", f)
	}

	// A stopped leader resigns: the other replica runs the checks next.
	envs[lead].server.Stop()
	other := envs[1-lead]
	poll.Until(t, "the other replica leads", other.srv.leading.Load, poll.Within(5*time.Second))
	poll.Until(t, "the new leader probes", func() bool { return httpProbes(other) > 0 }, poll.Within(5*time.Second))
}

// A leader cut off from etcd (here: its client closed, as in a crash) loses
// the lead once its session lapses, and the other replica takes over. The
// stores are wrapped: the election is found through Unwrap.
func TestReplicasTakeOverFromCrashedLeader(t *testing.T) {
	var hits atomic.Int64
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer app.Close()
	envs, clis := newReplicas(t, true)
	if err := envs[0].client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80,
		Check: &api.AgentServiceCheck{HTTP: app.URL, Interval: "200ms", Timeout: "1s"}}); err != nil {
		t.Fatal(err)
	}
	lead := leader(t, envs)
	other := envs[1-lead]
	poll.Until(t, "the follower knows the check", func() bool {
		_, ok := other.srv.agent.check("service:web-1")
		return ok
	}, poll.Within(5*time.Second))
	clis[lead].Close()
	start := time.Now()
	// etcd's minimum lease TTL (about 2s) bounds the session; allow margin.
	poll.Until(t, "the other replica leads", other.srv.leading.Load)
	t.Logf("took over %v after the leader's client closed", time.Since(start).Round(time.Millisecond))
	poll.Until(t, "the cut-off leader stops leading", func() bool { return !envs[lead].srv.leading.Load() }, poll.Within(5*time.Second))
	poll.Until(t, "the new leader probes", func() bool { return httpProbes(other) > 0 }, poll.Within(5*time.Second))
}

// TTL passes spread over both replicas keep the check passing though
// only the leader expires TTLs; when they stop, it goes critical.
func TestReplicasShareTTLHeartbeats(t *testing.T) {
	envs, _ := newReplicas(t, false)
	const ttl = time.Second
	if err := envs[0].client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "hb-1", Name: "hb", Port: 80,
		Check: &api.AgentServiceCheck{CheckID: "hb", TTL: ttl.String(), Status: api.HealthPassing}}); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "both replicas know the check", func() bool {
		_, ok0 := envs[0].srv.agent.check("hb")
		_, ok1 := envs[1].srv.agent.check("hb")
		return ok0 && ok1
	}, poll.Within(5*time.Second))
	status := func() string {
		insts := envs[0].instances("hb")
		if len(insts) != 1 {
			return ""
		}
		return string(insts[0].Health)
	}
	// The first pass sets the output ("ok"): a real change. The heartbeats
	// after it are recorded in the store but must not wake blocking queries.
	if err := envs[0].client.Agent().PassTTL("hb", "ok"); err != nil {
		t.Fatal(err)
	}
	_, meta, err := envs[0].client.Health().Checks("hb", nil)
	if err != nil {
		t.Fatal(err)
	}
	revBefore := envs[0].instances("hb")[0].Revision
	woke := make(chan uint64, 1)
	go func() {
		_, m, err := envs[1].client.Health().Checks("hb", &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 2 * ttl})
		if err != nil {
			woke <- 0
			return
		}
		woke <- m.LastIndex
	}()

	// Passes go to the follower alone for longer than the TTL (the leader
	// sees them only through the store), then alternate between both.
	follower := 1 - leader(t, envs)
	start := time.Now()
	var lastPass time.Time
	for i := 0; time.Since(start) < 3*ttl; i++ {
		to := follower
		if time.Since(start) > 3*ttl/2 {
			to = i % 2
		}
		if err := envs[to].client.Agent().PassTTL("hb", "ok"); err != nil {
			t.Fatal(err)
		}
		lastPass = time.Now()
		if s := status(); s != api.HealthPassing {
			t.Fatalf("check %s after %d passes", s, i+1)
		}
		for _, e := range envs {
			if n := testutil.ToFloat64(e.srv.met.ttlExpiry); n != 0 {
				t.Fatalf("TTL expired while passes came (after %d)", i+1)
			}
		}
		time.Sleep(150 * time.Millisecond) // the clients' pass rate
	}
	if rev := envs[0].instances("hb")[0].Revision; rev <= revBefore {
		t.Fatalf("no heartbeat recorded in the store (revision %d, before %d)", rev, revBefore)
	}
	select {
	case idx := <-woke:
		if idx != meta.LastIndex {
			t.Fatalf("a blocking query woke with index %d (from %d) while only heartbeats were recorded", idx, meta.LastIndex)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query did not return")
	}
	poll.Until(t, "check critical after the passes stop", func() bool { return status() == api.HealthCritical }, poll.Within(2*ttl+2*time.Second))
	if since := time.Since(lastPass); since < ttl {
		t.Fatalf("critical %v after the last pass, before the TTL (%v)", since, ttl)
	}
	lead := leader(t, envs)
	// The leader counts the expiry once the store has taken it, a moment
	// after readers can see the check critical (CI saw 0 here).
	poll.Until(t, "the leader to count one TTL expiry", func() bool {
		return testutil.ToFloat64(envs[lead].srv.met.ttlExpiry) == 1
	}, poll.Within(2*time.Second))
	if n := testutil.ToFloat64(envs[1-lead].srv.met.ttlExpiry); n != 0 {
		t.Fatalf("the follower expired %v TTLs", n)
	}
	// The follower serves the expiry once its copy of the store has it.
	poll.UntilNil(t, "the follower to serve the expired check", func() error {
		checks, _, err := envs[1].client.Health().Checks("hb", nil)
		if err != nil {
			return err
		}
		if len(checks) != 1 || checks[0].Output != "TTL expired (last output before timeout follows): ok" {
			return fmt.Errorf("checks after expiry = %+v", checks)
		}
		return nil
	}, poll.Within(2*time.Second))
}
