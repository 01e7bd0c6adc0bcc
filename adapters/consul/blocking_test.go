package consul

import (
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/internal/poll"
)

func TestHealthServiceBlockingQuery(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	register := func(id, name string) {
		t.Helper()
		reg := &api.AgentServiceRegistration{ID: id, Name: name, Port: 80, Check: &api.AgentServiceCheck{TTL: "60s", Status: api.HealthPassing}}
		if err := agent.ServiceRegister(reg); err != nil {
			t.Fatalf("register %s: %v", id, err)
		}
	}
	register("api-1", "api")
	entries, meta, err := env.client.Health().Service("api", "", true, nil)
	if err != nil || len(entries) != 1 {
		t.Fatalf("initial read = %v, %v", entries, err)
	}
	if meta.LastIndex == 0 || !meta.KnownLeader {
		t.Fatalf("query meta = %+v, want index > 0 and known leader", meta)
	}

	t.Run("waits while nothing changes", func(t *testing.T) {
		register("other-1", "other") // another service must not wake the query
		start := time.Now()
		_, meta2, err := env.client.Health().Service("api", "", true, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 600 * time.Millisecond})
		if err != nil {
			t.Fatalf("blocking read: %v", err)
		}
		if took := time.Since(start); took < 550*time.Millisecond {
			t.Fatalf("returned after %v without a change, want it to wait ~600ms", took)
		}
		if meta2.LastIndex != meta.LastIndex {
			t.Fatalf("index moved from %d to %d without a change to the service", meta.LastIndex, meta2.LastIndex)
		}
	})

	t.Run("returns promptly on change", func(t *testing.T) {
		type result struct {
			entries []*api.ServiceEntry
			meta    *api.QueryMeta
			err     error
			took    time.Duration
		}
		done := make(chan result, 1)
		go func() {
			start := time.Now()
			e, m, err := env.client.Health().Service("api", "", true, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 30 * time.Second})
			done <- result{e, m, err, time.Since(start)}
		}()
		time.Sleep(100 * time.Millisecond) // let the query reach the server and block
		register("api-2", "api")
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatalf("blocking read: %v", r.err)
			}
			if len(r.entries) != 2 || r.meta.LastIndex <= meta.LastIndex {
				t.Fatalf("after change: %d entries, index %d (was %d)", len(r.entries), r.meta.LastIndex, meta.LastIndex)
			}
			if r.took > 5*time.Second {
				t.Fatalf("woke after %v", r.took)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("blocking query did not return after a change")
		}
	})
}

func TestBlockingIndexNeverZeroAndMonotonic(t *testing.T) {
	env := newEnv(t)
	_, hdr, _ := env.do("GET", "/v1/health/service/none", nil, nil)
	first, err := strconv.ParseUint(hdr.Get("X-Consul-Index"), 10, 64)
	if err != nil || first == 0 {
		t.Fatalf("X-Consul-Index on an empty registry = %q", hdr.Get("X-Consul-Index"))
	}
	if hdr.Get("X-Consul-KnownLeader") != "true" || hdr.Get("X-Consul-LastContact") != "0" {
		t.Fatalf("meta headers = %v", hdr)
	}
	agent := env.client.Agent()
	if err := agent.ServiceRegister(&api.AgentServiceRegistration{ID: "x-1", Name: "x", Port: 1}); err != nil {
		t.Fatal(err)
	}
	_, m1, err := env.client.Health().Service("x", "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.ServiceDeregister("x-1"); err != nil {
		t.Fatal(err)
	}
	// The delete must still move the index forward, so a blocked client wakes.
	poll.Until(t, "index after delete", func() bool {
		entries, m2, err := env.client.Health().Service("x", "", false, nil)
		return err == nil && len(entries) == 0 && m2.LastIndex > m1.LastIndex
	}, poll.Within(5*time.Second))
}

func TestBadWaitAndIndex(t *testing.T) {
	env := newEnv(t)
	for _, tc := range []struct{ query, want string }{
		{"?wait=soon", "Invalid wait time"},
		{"?index=-1", "Invalid index"},
		{"?passing=maybe", "Invalid value for ?passing"},
		{"?stale&consistent", "Cannot specify ?stale with ?consistent, conflicting semantics."},
	} {
		status, _, body := env.do("GET", "/v1/health/service/web"+tc.query, nil, nil)
		if status != 400 || string(body) != tc.want {
			t.Errorf("%s: %d %q, want 400 %q", tc.query, status, body, tc.want)
		}
	}
	status, _, body := env.do("GET", "/v1/health/service/web?dc=elsewhere", nil, nil)
	if status != 500 || string(body) != "No path to datacenter" {
		t.Errorf("unknown dc: %d %q", status, body)
	}
}

func TestAgentServiceHashBlocking(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	reg := &api.AgentServiceRegistration{ID: "h-1", Name: "h", Port: 1, Tags: []string{"a"}}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	svc, meta, err := agent.Service("h-1", nil)
	if err != nil || svc.ID != "h-1" || meta.LastContentHash == "" || svc.ContentHash != meta.LastContentHash {
		t.Fatalf("service = %+v, meta %+v, %v", svc, meta, err)
	}
	start := time.Now()
	_, meta2, err := agent.Service("h-1", &api.QueryOptions{WaitHash: meta.LastContentHash, WaitTime: 500 * time.Millisecond})
	if err != nil || time.Since(start) < 450*time.Millisecond || meta2.LastContentHash != meta.LastContentHash {
		t.Fatalf("unchanged hash query returned after %v with %+v, %v", time.Since(start), meta2, err)
	}
	done := make(chan *api.AgentService, 1)
	go func() {
		s, _, err := agent.Service("h-1", &api.QueryOptions{WaitHash: meta.LastContentHash, WaitTime: 20 * time.Second})
		if err != nil {
			s = nil
		}
		done <- s
	}()
	time.Sleep(100 * time.Millisecond)
	reg.Tags = []string{"b"}
	if err := agent.ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-done:
		if s == nil || len(s.Tags) != 1 || s.Tags[0] != "b" {
			t.Fatalf("woken service = %+v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hash blocking query did not wake")
	}
	if _, _, err := agent.Service("nope", nil); err == nil {
		t.Fatal("unknown service ID answered")
	}
}
