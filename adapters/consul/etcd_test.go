package consul

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/meshbridge/meshbridge/registry/etcd"
	"github.com/meshbridge/meshbridge/registry/etcd/etcdtest"
)

// TestOverEtcdStore runs the main flows over the etcd store (a real etcd
// server in-process on loopback), the backend several adapter replicas share.
func TestOverEtcdStore(t *testing.T) {
	cli := etcdtest.Start(t)
	st, err := etcd.Open(context.Background(), etcd.Options{Client: cli, Prefix: "/consul-test/", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnvOver(t, st)
	agent := env.client.Agent()

	if err := agent.ServiceRegister(&api.AgentServiceRegistration{ID: "e-1", Name: "e", Port: 80, Check: &api.AgentServiceCheck{TTL: "30s"}}); err != nil {
		t.Fatal(err)
	}
	entries, meta, err := env.client.Health().Service("e", "", true, nil)
	if err != nil || len(entries) != 0 || meta.LastIndex == 0 {
		t.Fatalf("before the first pass: %v, %+v, %v", entries, meta, err)
	}
	done := make(chan int, 1)
	go func() {
		es, _, err := env.client.Health().Service("e", "", true, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 20 * time.Second})
		if err != nil {
			es = nil
		}
		done <- len(es)
	}()
	time.Sleep(100 * time.Millisecond)
	if err := agent.PassTTL("service:e-1", "ok"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-done:
		if n != 1 {
			t.Fatalf("woken with %d passing entries", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query over etcd did not wake")
	}
	kv := env.client.KV()
	if _, err := kv.Put(&api.KVPair{Key: "cfg/a", Value: []byte("1")}, nil); err != nil {
		t.Fatal(err)
	}
	p, _, err := kv.Get("cfg/a", nil)
	if err != nil || p == nil || !bytes.Equal(p.Value, []byte("1")) {
		t.Fatalf("get over etcd = %+v, %v", p, err)
	}
	if ok, _, err := kv.CAS(&api.KVPair{Key: "cfg/a", Value: []byte("2"), ModifyIndex: p.ModifyIndex}, nil); err != nil || !ok {
		t.Fatalf("CAS over etcd = %v, %v", ok, err)
	}
	if err := agent.ServiceDeregister("e-1"); err != nil {
		t.Fatal(err)
	}
	if es, _, err := env.client.Health().Service("e", "", false, nil); err != nil || len(es) != 0 {
		t.Fatalf("after deregister over etcd: %v, %v", es, err)
	}
}
