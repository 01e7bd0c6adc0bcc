package sidecar_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	nacosconfig "github.com/meshbridge/meshbridge/adapters/nacos/config"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
)

// changeLatency bounds how long a change made at the control plane takes
// to wake a client blocked on the sidecar (the path is milliseconds; the
// rest is headroom for a loaded machine).
const changeLatency = 1500 * time.Millisecond

// Consul KV through the sidecar with the real consul/api client: reads,
// writes, flags, listing, check-and-set and deletes land in the control
// plane, and blocking queries wake when someone else changes a key there.
func TestDiscoveryModeConsulKV(t *testing.T) {
	cp := startControl(t)
	addr := loopback.Addr(t)
	discoverySidecar(t, cp, "shop", func(d *config.Discovery) { d.FrontEnds = map[string]string{"consul": addr} })
	client, err := consulapi.NewClient(&consulapi.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	kv := client.KV()
	poll.Until(t, "the Consul front-end answering", func() bool { _, err := client.Agent().Self(); return err == nil })

	start := time.Now()
	if _, err := kv.Put(&consulapi.KVPair{Key: "config/shop/data", Value: []byte("port: 1"), Flags: 7}, nil); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > changeLatency {
		t.Errorf("a put through the sidecar took %v; its echo should settle it at once", took)
	}
	if up, err := cp.client.GetKV(testCtx(t, 5*time.Second), "config/shop/data"); err != nil || string(up.Value) != "port: 1" || up.Flags != 7 {
		t.Fatalf("control plane has %+v, %v", up, err)
	}
	pair, meta, err := kv.Get("config/shop/data", nil)
	if err != nil || pair == nil || string(pair.Value) != "port: 1" || pair.Flags != 7 || meta.LastIndex < pair.ModifyIndex {
		t.Fatalf("get = %+v (index %d), %v", pair, meta.LastIndex, err)
	}

	// Check-and-set with the index the client read wins once; the stale one loses.
	ok, _, err := kv.CAS(&consulapi.KVPair{Key: "config/shop/data", Value: []byte("port: 2"), ModifyIndex: pair.ModifyIndex}, nil)
	if err != nil || !ok {
		t.Fatalf("cas with the read index = %v, %v", ok, err)
	}
	if ok, _, err := kv.CAS(&consulapi.KVPair{Key: "config/shop/data", Value: []byte("stale"), ModifyIndex: pair.ModifyIndex}, nil); err != nil || ok {
		t.Fatalf("cas with a stale index = %v, %v; want false", ok, err)
	}
	if ok, _, err := kv.CAS(&consulapi.KVPair{Key: "config/shop/new", Value: []byte("x"), ModifyIndex: 0}, nil); err != nil || !ok {
		t.Fatalf("create-only cas = %v, %v", ok, err)
	}
	if ok, _, err := kv.CAS(&consulapi.KVPair{Key: "config/shop/new", Value: []byte("y"), ModifyIndex: 0}, nil); err != nil || ok {
		t.Fatalf("second create-only cas = %v, %v; want false", ok, err)
	}
	pairs, _, err := kv.List("config/shop/", nil)
	if err != nil || len(pairs) != 2 || pairs[0].Key != "config/shop/data" || string(pairs[0].Value) != "port: 2" {
		t.Fatalf("list = %+v, %v", pairs, err)
	}
	if keys, _, err := kv.Keys("config/", "/", nil); err != nil || len(keys) != 1 || keys[0] != "config/shop/" {
		t.Fatalf("keys = %v, %v", keys, err)
	}

	// A blocking query wakes when the key changes at the control plane.
	pair, meta, err = kv.Get("config/shop/data", nil)
	if err != nil || pair == nil {
		t.Fatal(err)
	}
	type answer struct {
		pair *consulapi.KVPair
		meta *consulapi.QueryMeta
		err  error
		at   time.Time
	}
	blocked := make(chan answer, 1)
	go func() {
		p, m, err := kv.Get("config/shop/data", &consulapi.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 10 * time.Second})
		blocked <- answer{p, m, err, time.Now()}
	}()
	select {
	case a := <-blocked:
		t.Fatalf("blocking query answered before any change: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
	changed := time.Now()
	if _, err := cp.client.PutKV(testCtx(t, 5*time.Second), &registry.KV{Key: "config/shop/data", Value: []byte("port: 3")}, -1); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-blocked:
		if a.err != nil || a.pair == nil || string(a.pair.Value) != "port: 3" || a.meta.LastIndex <= meta.LastIndex {
			t.Fatalf("blocking query answered %+v (index %v), %v", a.pair, a.meta, a.err)
		}
		if took := a.at.Sub(changed); took > changeLatency {
			t.Errorf("blocking query woke %v after the change", took)
		}
		meta = a.meta
	case <-time.After(5 * time.Second):
		t.Fatal("blocking query did not wake after the change at the control plane")
	}

	// A recursive blocking query wakes on a delete there too.
	go func() {
		p, m, err := kv.List("config/shop/", &consulapi.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 10 * time.Second})
		var first *consulapi.KVPair
		if len(p) > 0 {
			first = p[0]
		}
		blocked <- answer{first, m, err, time.Now()}
	}()
	if _, err := cp.client.DeleteKV(testCtx(t, 5*time.Second), "config/shop/new", -1); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-blocked:
		if a.err != nil || a.meta.LastIndex <= meta.LastIndex {
			t.Fatalf("recursive blocking query answered %v, %v", a.meta, a.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("recursive blocking query did not wake after a delete at the control plane")
	}

	// Deletes through the sidecar: a stale check-and-set loses, the tree goes.
	stale := &consulapi.KVPair{Key: "config/shop/data", ModifyIndex: pair.ModifyIndex}
	if ok, _, err := kv.DeleteCAS(stale, nil); err != nil || ok {
		t.Fatalf("stale delete-cas = %v, %v; want false", ok, err)
	}
	if _, err := kv.DeleteTree("config/", nil); err != nil {
		t.Fatal(err)
	}
	if left, _, err := cp.client.ListKV(testCtx(t, 5*time.Second), "config/"); err != nil || len(left) != 0 {
		t.Fatalf("after delete tree the control plane has %v, %v", left, err)
	}
}

// Nacos config through the sidecar with the real nacos-sdk-go/v2 client:
// publish, get and delete reach the control plane; a listener hears of a
// change made there; and a Nacos 1.x long-poll held by the sidecar answers
// as soon as the control plane changes the item.
func TestDiscoveryModeNacosConfig(t *testing.T) {
	cp := startControl(t)
	port := loopback.Port(t, 1000)
	discoverySidecar(t, cp, "shop", func(d *config.Discovery) { d.FrontEnds = map[string]string{"nacos": "127.0.0.1:" + strconv.Itoa(port)} })
	base := "http://127.0.0.1:" + strconv.Itoa(port) + "/nacos"
	poll.Until(t, "the Nacos front-end answering", func() bool {
		resp, err := http.Get(base + "/v1/cs/configs?dataId=probe&group=DEFAULT_GROUP")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound
	})
	c, err := clients.NewConfigClient(vo.NacosClientParam{
		ClientConfig: constant.NewClientConfig(constant.WithTimeoutMs(5000), constant.WithNotLoadCacheAtStart(true),
			constant.WithLogDir(t.TempDir()), constant.WithCacheDir(t.TempDir()), constant.WithLogLevel("error")),
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig("127.0.0.1", uint64(port), constant.WithContextPath("/nacos"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	const key = "nacos/config/public/DEFAULT_GROUP/shop.yaml"
	ctx := testCtx(t, 30*time.Second)

	if ok, err := c.PublishConfig(vo.ConfigParam{DataId: "shop.yaml", Group: "DEFAULT_GROUP", Content: "a: 1"}); err != nil || !ok {
		t.Fatalf("publish = %v, %v", ok, err)
	}
	if up, err := cp.client.GetKV(ctx, key); err != nil || string(up.Value) != "a: 1" {
		t.Fatalf("control plane has %+v, %v", up, err)
	}
	if got, err := c.GetConfig(vo.ConfigParam{DataId: "shop.yaml", Group: "DEFAULT_GROUP"}); err != nil || got != "a: 1" {
		t.Fatalf("get = %q, %v", got, err)
	}

	changes := make(chan string, 4)
	if err := c.ListenConfig(vo.ConfigParam{DataId: "shop.yaml", Group: "DEFAULT_GROUP", OnChange: func(_, _, _, data string) { changes <- data }}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.client.PutKV(ctx, &registry.KV{Key: key, Value: []byte("a: 2")}, -1); err != nil {
		t.Fatal(err)
	}
	// The SDK registers its listener on its own schedule (a batch listen
	// every 5 s), so allow two rounds for the first notice.
	select {
	case data := <-changes:
		if data != "a: 2" {
			t.Fatalf("listener got %q", data)
		}
	case <-time.After(12 * time.Second):
		t.Fatal("the SDK listener never heard of the change at the control plane")
	}

	// A 1.x long-poll with the current md5 is held, and answered once the
	// control plane changes the item: only the pushed change can wake it.
	listen := url.Values{"Listening-Configs": {"shop.yaml\x02DEFAULT_GROUP\x02" + nacosconfig.MD5("a: 2") + "\x01"}}.Encode()
	polled := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/cs/configs/listener", strings.NewReader(listen))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Long-Pulling-Timeout", "20000")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			polled <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		polled <- string(b)
	}()
	select {
	case b := <-polled:
		t.Fatalf("long-poll answered before any change: %q", b)
	case <-time.After(300 * time.Millisecond):
	}
	changed := time.Now()
	if _, err := cp.client.PutKV(ctx, &registry.KV{Key: key, Value: []byte("a: 3")}, -1); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-polled:
		if b != url.QueryEscape("shop.yaml\x02DEFAULT_GROUP\x01") {
			t.Fatalf("long-poll answered %q", b)
		}
		if took := time.Since(changed); took > changeLatency {
			t.Errorf("long-poll answered %v after the change", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("long-poll not answered after the change at the control plane")
	}

	if ok, err := c.DeleteConfig(vo.ConfigParam{DataId: "shop.yaml", Group: "DEFAULT_GROUP"}); err != nil || !ok {
		t.Fatalf("delete = %v, %v", ok, err)
	}
	if _, err := cp.client.GetKV(ctx, key); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("config still at the control plane after delete: %v", err)
	}
}
