package consul

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

func TestCatalogServices(t *testing.T) {
	env := newEnv(t)
	agent := env.client.Agent()
	for _, reg := range []*api.AgentServiceRegistration{
		{ID: "web-1", Name: "web", Tags: []string{"b", "a"}, Port: 80},
		{ID: "web-2", Name: "web", Tags: []string{"c", "a"}, Port: 81},
		{ID: "db-1", Name: "db", Port: 5432},
	} {
		if err := agent.ServiceRegister(reg); err != nil {
			t.Fatalf("register %s: %v", reg.ID, err)
		}
	}
	svcs, meta, err := env.client.Catalog().Services(nil)
	if err != nil {
		t.Fatalf("services: %v", err)
	}
	// Consul lists itself as the service "consul".
	if !slices.Equal(svcs["web"], []string{"a", "b", "c"}) || svcs["db"] == nil || len(svcs["db"]) != 0 || svcs["consul"] == nil || len(svcs) != 3 {
		t.Fatalf("catalog services = %v", svcs)
	}
	if meta.LastIndex == 0 {
		t.Fatalf("no index")
	}
	nodes, _, err := env.client.Catalog().Service("web", "c", nil)
	if err != nil || len(nodes) != 1 || nodes[0].ServiceID != "web-2" || nodes[0].Node != "node-1" || nodes[0].Datacenter != "dc1" {
		t.Fatalf("catalog service web tag c = %+v, %v", nodes, err)
	}
	// Tags filter without case, all must match.
	nodes, _, err = env.client.Catalog().ServiceMultipleTags("web", []string{"A", "B"}, nil)
	if err != nil || len(nodes) != 1 || nodes[0].ServiceID != "web-1" {
		t.Fatalf("catalog service web tags A,B = %+v, %v", nodes, err)
	}
	name, err := agent.NodeName()
	if err != nil || name != "node-1" {
		t.Fatalf("agent node name = %q, %v", name, err)
	}
	leader, err := env.client.Status().Leader()
	if err != nil || leader != "127.0.0.1:8300" {
		t.Fatalf("leader = %q, %v", leader, err)
	}
	peers, err := env.client.Status().Peers()
	if err != nil || len(peers) != 1 {
		t.Fatalf("peers = %v, %v", peers, err)
	}
	cnodes, _, err := env.client.Catalog().Nodes(nil)
	if err != nil || len(cnodes) != 1 || cnodes[0].Node != "node-1" {
		t.Fatalf("nodes = %+v, %v", cnodes, err)
	}
	// A blocking catalog read wakes when a service is added.
	done := make(chan map[string][]string, 1)
	go func() {
		s, _, err := env.client.Catalog().Services(&api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 20 * time.Second})
		if err != nil {
			s = nil
		}
		done <- s
	}()
	time.Sleep(100 * time.Millisecond)
	if err := agent.ServiceRegister(&api.AgentServiceRegistration{ID: "cache-1", Name: "cache", Port: 6379}); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-done:
		if _, ok := s["cache"]; !ok {
			t.Fatalf("woken catalog = %v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("catalog blocking query did not wake")
	}
}

func TestKV(t *testing.T) {
	env := newEnv(t)
	kv := env.client.KV()
	if _, err := kv.Put(&api.KVPair{Key: "config/app/name", Value: []byte("orders"), Flags: 42}, nil); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := kv.Put(&api.KVPair{Key: "config/app/db/url", Value: []byte("jdbc:x")}, nil); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := kv.Put(&api.KVPair{Key: "config/other", Value: []byte("o")}, nil); err != nil {
		t.Fatalf("put: %v", err)
	}
	p, meta, err := kv.Get("config/app/name", nil)
	if err != nil || p == nil || string(p.Value) != "orders" || p.Flags != 42 || p.ModifyIndex == 0 || p.CreateIndex == 0 {
		t.Fatalf("get = %+v, %v", p, err)
	}
	if meta.LastIndex < p.ModifyIndex {
		t.Fatalf("index %d below the key's %d", meta.LastIndex, p.ModifyIndex)
	}
	missing, meta2, err := kv.Get("config/none", nil)
	if err != nil || missing != nil || meta2.LastIndex == 0 {
		t.Fatalf("missing key = %+v, %+v, %v", missing, meta2, err)
	}
	list, _, err := kv.List("config/app/", nil)
	if err != nil || len(list) != 2 || list[0].Key != "config/app/db/url" || list[1].Key != "config/app/name" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	keys, _, err := kv.Keys("config/", "/", nil)
	if err != nil || !slices.Equal(keys, []string{"config/app/", "config/other"}) {
		t.Fatalf("keys with separator = %v, %v", keys, err)
	}
	keys, _, err = kv.Keys("config/", "", nil)
	if err != nil || len(keys) != 3 {
		t.Fatalf("keys = %v, %v", keys, err)
	}

	// Check-and-set: a stale index loses, the current one wins, 0 only creates.
	ok, _, err := kv.CAS(&api.KVPair{Key: "config/app/name", Value: []byte("stale"), ModifyIndex: p.ModifyIndex - 1}, nil)
	if err != nil || ok {
		t.Fatalf("CAS with a stale index = %v, %v", ok, err)
	}
	ok, _, err = kv.CAS(&api.KVPair{Key: "config/app/name", Value: []byte("billing"), ModifyIndex: p.ModifyIndex}, nil)
	if err != nil || !ok {
		t.Fatalf("CAS with the current index = %v, %v", ok, err)
	}
	ok, _, err = kv.CAS(&api.KVPair{Key: "config/app/name", Value: []byte("again"), ModifyIndex: 0}, nil)
	if err != nil || ok {
		t.Fatalf("CAS create-only on an existing key = %v, %v", ok, err)
	}
	p2, _, _ := kv.Get("config/app/name", nil)
	if string(p2.Value) != "billing" {
		t.Fatalf("value after CAS = %q", p2.Value)
	}
	ok, _, err = kv.DeleteCAS(&api.KVPair{Key: "config/app/name", ModifyIndex: p.ModifyIndex}, nil)
	if err != nil || ok {
		t.Fatalf("DeleteCAS with a stale index = %v, %v", ok, err)
	}

	// A blocking list wakes when a key under the prefix goes away.
	_, lmeta, _ := kv.List("config/app/", nil)
	done := make(chan []*api.KVPair, 1)
	go func() {
		l, _, err := kv.List("config/app/", &api.QueryOptions{WaitIndex: lmeta.LastIndex, WaitTime: 20 * time.Second})
		if err != nil {
			l = nil
		}
		done <- l
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := kv.Delete("config/app/name", nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	select {
	case l := <-done:
		if len(l) != 1 || l[0].Key != "config/app/db/url" {
			t.Fatalf("woken list = %+v", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("KV blocking list did not wake on delete")
	}
	if _, err := kv.DeleteTree("config/", nil); err != nil {
		t.Fatalf("delete tree: %v", err)
	}
	left, _, err := kv.List("config/", nil)
	if err != nil || len(left) != 0 {
		t.Fatalf("after delete tree: %+v, %v", left, err)
	}

	// Raw values and empty values.
	status, _, _ := env.do("PUT", "/v1/kv/raw/key", strings.NewReader("plain text"), nil)
	if status != 200 {
		t.Fatalf("raw put status %d", status)
	}
	status, hdr, body := env.do("GET", "/v1/kv/raw/key?raw", nil, nil)
	if status != 200 || string(body) != "plain text" || hdr.Get("Content-Type") != "text/plain" {
		t.Fatalf("raw get = %d %q %v", status, body, hdr)
	}
	env.do("PUT", "/v1/kv/raw/empty", nil, nil)
	_, _, body = env.do("GET", "/v1/kv/raw/empty", nil, nil)
	if !bytes.Contains(body, []byte(`"Value":null`)) {
		t.Fatalf("empty value encoded as %s, want null as Consul writes it", body)
	}
}

// Reads are served from a shared cache between changes; a read right
// after a write must still see the write.
func TestReadAfterWrite(t *testing.T) {
	env := newEnv(t)
	kv := env.client.KV()
	agent := env.client.Agent()
	for i := range 40 {
		v := []byte{byte('a' + i%26)}
		if _, err := kv.Put(&api.KVPair{Key: "raw/k", Value: v}, nil); err != nil {
			t.Fatal(err)
		}
		p, _, err := kv.Get("raw/k", nil)
		if err != nil || p == nil || !bytes.Equal(p.Value, v) {
			t.Fatalf("round %d: read %+v after writing %q (%v)", i, p, v, err)
		}
		if _, err := kv.Delete("raw/k", nil); err != nil {
			t.Fatal(err)
		}
		if p, _, err := kv.Get("raw/k", nil); err != nil || p != nil {
			t.Fatalf("round %d: read %+v after delete (%v)", i, p, err)
		}
		if err := agent.ServiceRegister(&api.AgentServiceRegistration{ID: "rw-1", Name: "rw", Port: i + 1}); err != nil {
			t.Fatal(err)
		}
		es, _, err := env.client.Health().Service("rw", "", false, nil)
		if err != nil || len(es) != 1 || es[0].Service.Port != i+1 {
			t.Fatalf("round %d: health after register = %v (%v)", i, es, err)
		}
		if err := agent.ServiceDeregister("rw-1"); err != nil {
			t.Fatal(err)
		}
		if es, _, err := env.client.Health().Service("rw", "", false, nil); err != nil || len(es) != 0 {
			t.Fatalf("round %d: health after deregister = %v (%v)", i, es, err)
		}
	}
}
