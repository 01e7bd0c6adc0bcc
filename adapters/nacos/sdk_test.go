package nacos_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/meshbridge/meshbridge/adapters/nacos/naming"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

func TestSDKRegisterSelectDeregister(t *testing.T) {
	e := startEnv(t, testOptions())
	provider := e.namingClient(t)
	ok, err := provider.RegisterInstance(vo.RegisterInstanceParam{
		Ip: "10.0.0.5", Port: 8080, ServiceName: "orders", Weight: 10, Enable: true, Healthy: true,
		Ephemeral: true, ClusterName: "DEFAULT", Metadata: map[string]string{"version": "v2"},
	})
	if err != nil || !ok {
		t.Fatalf("register: ok=%v err=%v", ok, err)
	}
	insts := listService(t, e.store, "orders")
	if len(insts) != 1 {
		t.Fatalf("store has %d instances, want 1", len(insts))
	}
	got := insts[0]
	if got.Origin != registry.OriginNacos || !got.Ephemeral || got.Host != "10.0.0.5" || got.Port != 8080 ||
		got.Weight != 10 || got.Labels["version"] != "v2" || got.Attributes[naming.AttrConnection] == "" || got.Lease.Duration == 0 {
		t.Fatalf("stored instance not mapped as expected: %+v", got)
	}

	consumer := e.namingClient(t)
	hosts, err := consumer.SelectInstances(vo.SelectInstancesParam{ServiceName: "orders", HealthyOnly: true})
	if err != nil || len(hosts) != 1 {
		t.Fatalf("select: %v %v", hosts, err)
	}
	if h := hosts[0]; h.Ip != "10.0.0.5" || h.Port != 8080 || h.Weight != 10 || h.Metadata["version"] != "v2" || h.ServiceName != "DEFAULT_GROUP@@orders" {
		t.Fatalf("selected instance: %+v", h)
	}
	svc, err := consumer.GetService(vo.GetServiceParam{ServiceName: "orders"})
	if err != nil || svc.Name != "orders" || svc.GroupName != "DEFAULT_GROUP" || len(svc.Hosts) != 1 {
		t.Fatalf("get service: %+v %v", svc, err)
	}
	list, err := consumer.GetAllServicesInfo(vo.GetAllServiceInfoParam{PageNo: 1, PageSize: 10})
	if err != nil || list.Count != 1 || len(list.Doms) != 1 || list.Doms[0] != "orders" {
		t.Fatalf("service list: %+v %v", list, err)
	}

	ok, err = provider.DeregisterInstance(vo.DeregisterInstanceParam{Ip: "10.0.0.5", Port: 8080, ServiceName: "orders", Ephemeral: true})
	if err != nil || !ok {
		t.Fatalf("deregister: ok=%v err=%v", ok, err)
	}
	if n := len(listService(t, e.store, "orders")); n != 0 {
		t.Fatalf("store still has %d instances after deregister", n)
	}
}

// pushRecorder collects subscribe callbacks.
type pushRecorder struct {
	mu    sync.Mutex
	calls [][]model.Instance
}

func (r *pushRecorder) callback(services []model.Instance, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, append([]model.Instance(nil), services...))
}

func (r *pushRecorder) last() []model.Instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		return nil
	}
	return r.calls[len(r.calls)-1]
}

func hasHost(hosts []model.Instance, ip string, port uint64) bool {
	for _, h := range hosts {
		if h.Ip == ip && h.Port == port {
			return true
		}
	}
	return false
}

func TestSDKSubscribeReceivesPushFromOtherPaths(t *testing.T) {
	e := startEnv(t, testOptions())
	consumer := e.namingClient(t, constant.WithUpdateCacheWhenEmpty(true))
	rec := &pushRecorder{}
	if err := consumer.Subscribe(&vo.SubscribeParam{ServiceName: "payments", SubscribeCallback: rec.callback}); err != nil {
		t.Fatal(err)
	}
	// A change through another protocol's path: the store directly, as the
	// Eureka adapter would write it.
	start := time.Now()
	_, err := e.store.Register(context.Background(), &registry.Instance{
		ID: "pay-1", Service: "PAYMENTS", Host: "10.0.0.9", Port: 9090, Origin: registry.OriginEureka,
	})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "push of the Eureka-registered instance", func() bool { return hasHost(rec.last(), "10.0.0.9", 9090) }, poll.Within(time.Second))
	t.Logf("push arrived %v after the store write", time.Since(start))

	// And through the v1 HTTP API.
	postForm(t, e, "/nacos/v1/ns/instance", "serviceName=payments&ip=10.0.0.10&port=9091&ephemeral=false")
	poll.Until(t, "push of the HTTP-registered instance", func() bool { return hasHost(rec.last(), "10.0.0.10", 9091) }, poll.Within(time.Second))

	hosts, err := consumer.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: "payments"})
	if err != nil || len(hosts) != 2 {
		t.Fatalf("select all after pushes: %v %v", hosts, err)
	}
}

func TestSDKConnectionDropRemovesEphemeralInstances(t *testing.T) {
	e := startEnv(t, testOptions())
	consumer := e.namingClient(t, constant.WithUpdateCacheWhenEmpty(true))
	rec := &pushRecorder{}
	if err := consumer.Subscribe(&vo.SubscribeParam{ServiceName: "inventory", SubscribeCallback: rec.callback}); err != nil {
		t.Fatal(err)
	}
	provider := e.namingClient(t)
	if ok, err := provider.RegisterInstance(vo.RegisterInstanceParam{Ip: "10.0.1.1", Port: 80, ServiceName: "inventory", Weight: 1, Enable: true, Healthy: true, Ephemeral: true}); err != nil || !ok {
		t.Fatalf("register: %v %v", ok, err)
	}
	poll.Until(t, "push of the new instance", func() bool { return hasHost(rec.last(), "10.0.1.1", 80) }, poll.Within(time.Second))
	provider.CloseClient()
	poll.Until(t, "instance removed with its connection", func() bool { return len(listService(t, e.store, "inventory")) == 0 }, poll.Within(3*time.Second))
	poll.Until(t, "push of the empty service", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.calls) > 0 && len(rec.calls[len(rec.calls)-1]) == 0
	}, poll.Within(time.Second))
}

func TestSDKConfigPublishGetListen(t *testing.T) {
	e := startEnv(t, testOptions())
	c := e.configClient(t)
	ok, err := c.PublishConfig(vo.ConfigParam{DataId: "app.yaml", Group: "DEFAULT_GROUP", Content: "a: 1"})
	if err != nil || !ok {
		t.Fatalf("publish: %v %v", ok, err)
	}
	got, err := c.GetConfig(vo.ConfigParam{DataId: "app.yaml", Group: "DEFAULT_GROUP"})
	if err != nil || got != "a: 1" {
		t.Fatalf("get: %q %v", got, err)
	}
	changes := make(chan string, 4)
	err = c.ListenConfig(vo.ConfigParam{DataId: "app.yaml", Group: "DEFAULT_GROUP", OnChange: func(ns, group, dataID, data string) {
		changes <- data
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Change it through the v1 HTTP API: the gRPC listener must hear of it.
	// The SDK registers its listener with the server on its own schedule
	// (a batch listen every 5 s), so a change made before that is found by
	// the md5 comparison of the next batch listen rather than pushed; allow
	// two rounds. The push itself is timed in TestGRPCPushIsAcknowledgedAndConfigChangesNotified.
	postForm(t, e, "/nacos/v1/cs/configs", "dataId=app.yaml&group=DEFAULT_GROUP&content=a%3A+2")
	select {
	case data := <-changes:
		if data != "a: 2" {
			t.Fatalf("listener got %q", data)
		}
	case <-time.After(12 * time.Second):
		t.Fatal("no config change notification")
	}
	if kv, err := e.store.GetKV(context.Background(), "nacos/config/public/DEFAULT_GROUP/app.yaml"); err != nil || string(kv.Value) != "a: 2" {
		t.Fatalf("config is not in the KV space: %v %v", kv, err)
	}
	ok, err = c.DeleteConfig(vo.ConfigParam{DataId: "app.yaml", Group: "DEFAULT_GROUP"})
	if err != nil || !ok {
		t.Fatalf("delete: %v %v", ok, err)
	}
	if _, err := e.store.GetKV(context.Background(), "nacos/config/public/DEFAULT_GROUP/app.yaml"); !isNotFound(err) {
		t.Fatalf("config still stored after delete: %v", err)
	}
}

func withAuth(user, pass string) []constant.ClientOption {
	return []constant.ClientOption{constant.WithUsername(user), constant.WithPassword(pass)}
}

func subscribeParam(service string, rec *pushRecorder) vo.SubscribeParam {
	return vo.SubscribeParam{ServiceName: service, SubscribeCallback: rec.callback}
}

func registerParam(service, ip string, port uint64) vo.RegisterInstanceParam {
	return vo.RegisterInstanceParam{Ip: ip, Port: port, ServiceName: service, Weight: 1, Enable: true, Healthy: true, Ephemeral: true}
}

func ptr[T any](v T) *T { return &v }
