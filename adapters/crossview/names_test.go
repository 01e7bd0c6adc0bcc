package crossview_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// TestConsulNamesLookUpThroughNacos registers services through the real
// consul/api client whose names hold '@', Nacos's group separator being
// "@@", and looks every service Nacos lists up through the real
// nacos-sdk-go. A name with "@@" is refused: Nacos would list "grp@@svc"
// and then read it as service "svc" of group "grp", so no Nacos client
// could find it. A single '@' anywhere is fine.
func TestConsulNamesLookUpThroughNacos(t *testing.T) {
	v := newViews(t)
	consulHTTP := httptest.NewServer(v.consul)
	t.Cleanup(consulHTTP.Close)
	cfg := api.DefaultConfig()
	cfg.Address = consulHTTP.Listener.Addr().String()
	agent, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var se api.StatusError
	err = agent.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "gs-1", Name: "grp@@svc", Address: "10.0.0.1", Port: 80})
	if !errors.As(err, &se) || se.Code != 400 {
		t.Errorf("register grp@@svc through Consul = %v, want 400", err)
	}
	names := []string{"grp@svc", "svc@", "@svc", "a@b@c"}
	for n, name := range names {
		if err := agent.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "s-" + strconv.Itoa(n), Name: name, Address: "10.0.0.1", Port: 8000 + n}); err != nil {
			t.Fatalf("register %s through Consul: %v", name, err)
		}
	}

	client := v.nacosClient(t)
	list, err := client.GetAllServicesInfo(vo.GetAllServiceInfoParam{PageNo: 1, PageSize: 100})
	if err != nil {
		t.Fatalf("Nacos service list: %v", err)
	}
	slices.Sort(list.Doms)
	if want := []string{"@svc", "a@b@c", "grp@svc", "svc@"}; !slices.Equal(list.Doms, want) {
		t.Errorf("Nacos lists %q, want %q", list.Doms, want)
	}
	for _, name := range list.Doms {
		hosts, err := client.SelectInstances(vo.SelectInstancesParam{ServiceName: name, HealthyOnly: true})
		if err != nil || len(hosts) != 1 || hosts[0].Ip != "10.0.0.1" {
			t.Errorf("Nacos lists %q but SelectInstances finds %+v, %v", name, hosts, err)
		}
	}
}

// nacosClient serves the Nacos front-end on loopback (HTTP and gRPC, which
// nacos-sdk-go v2 needs) and returns a naming client pointed at it.
func (v *views) nacosClient(t *testing.T) naming_client.INamingClient {
	t.Helper()
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- v.adapter.ServeHTTP(ctx, httpLn) }()
	go func() { done <- v.adapter.ServeGRPC(ctx, grpcLn) }()
	port := func(ln net.Listener) uint64 { return uint64(ln.Addr().(*net.TCPAddr).Port) }
	client, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: constant.NewClientConfig(constant.WithTimeoutMs(5000), constant.WithNotLoadCacheAtStart(true),
			constant.WithLogDir(t.TempDir()), constant.WithCacheDir(t.TempDir()), constant.WithLogLevel("error")),
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig("127.0.0.1", port(httpLn),
			constant.WithGrpcPort(port(grpcLn)), constant.WithContextPath("/nacos"))},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.CloseClient()
		cancel()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("nacos serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("the Nacos front-end did not stop")
			}
		}
	})
	return client
}
