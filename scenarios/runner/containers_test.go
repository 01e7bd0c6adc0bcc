package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/report"
)

const containerScenario = `
name: images
provider: container
topology:
  containers:
    - name: consul
      image: hashicorp/consul:1.19
      ports: [{name: http, port: 8500}]
      env: {CONSUL_BIND_INTERFACE: eth0}
      args: [agent, -dev]
      ready: {port: http, path: /v1/status/leader, body: ":8300", timeout: 30s}
    - name: nacos
      image: nacos/nacos-server:v2.4.3
      ports: [{name: http, port: 8848}, {name: grpc, port: 19848}]
      ready: {port: http, path: /nacos/v1/console/health/readiness}
  services:
    - name: billing
      registry: consul
      registryContainer: consul
      sidecar: false
      versions: [{name: v1}]
    - name: pay
      registry: nacos
      registryContainer: nacos
      versions: [{name: v1}]
    - name: orders
      registry: nacos
      versions: [{name: v1}]
steps:
  - wait: 1s
`

func TestPlanStartsContainersAndPointsAppsAtThem(t *testing.T) {
	s := mustScenario(t, containerScenario)
	comps, err := plan(s, helpFlags(adapterHelp), false)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*Component{}
	var names []string
	for _, c := range comps {
		by[c.Name] = c
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "registry consul nacos edge billing-v1-0 pay-v1-0-sidecar pay-v1-0 orders-v1-0-sidecar orders-v1-0" {
		t.Fatalf("components %s", got)
	}
	consul := by["consul"]
	if consul.Role != RoleContainer || consul.Image != "hashicorp/consul:1.19" || consul.Binary != "" || consul.Env["CONSUL_BIND_INTERFACE"] != "eth0" ||
		consul.Ready != (Probe{Port: "http", Path: "/v1/status/leader", Status: 200, Body: ":8300", Timeout: 30 * time.Second}) ||
		len(consul.Ports) != 1 || consul.Ports[0] != (Port{Name: "http", Container: 8500}) {
		t.Fatalf("consul component %+v", consul)
	}
	if got := consul.Args(fakeNet{}); strings.Join(got, " ") != "agent -dev" {
		t.Fatalf("consul args %q", got)
	}
	if got := by["nacos"].Args(fakeNet{}); got != nil {
		t.Fatalf("a container without args must keep its image's CMD, got %q", got)
	}
	// The registry-adapter serves only what the meshed services use.
	reg := strings.Join(by["registry"].Args(fakeNet{}), " ")
	if !strings.Contains(reg, "--nacos-listen=L/registry/nacos:1") || strings.Contains(reg, "consul") {
		t.Fatalf("registry args %q", reg)
	}
	for name, want := range map[string][]string{
		"billing-v1-0": {"--registry consul", "--registry-url http://D-consul-http:2", "--advertise D-billing-v1-0-http:2"},
		// A Nacos container's declared grpc port is passed on.
		"pay-v1-0":    {"--registry nacos", "--registry-url http://D-nacos-http:2", "--nacos-grpc-port 2", "--advertise D-pay-v1-0-sidecar-ingress:2"},
		"orders-v1-0": {"--registry-url http://D-registry-nacos:2", "--nacos-grpc-port 2"},
	} {
		args := strings.Join(by[name].Args(fakeNet{}), " ")
		for _, w := range want {
			if !strings.Contains(args, w) {
				t.Errorf("%s args %q lack %q", name, args, w)
			}
		}
	}
	if strings.Contains(strings.Join(by["billing-v1-0"].Args(fakeNet{}), " "), "--nacos-grpc-port") {
		t.Error("a consul app was given a nacos flag")
	}
}

func TestRegistryURLs(t *testing.T) {
	for _, tc := range []struct{ kind, container, want string }{
		{"eureka", "", "http://D-registry-eureka:2/eureka"},
		{"eureka", "eureka-server", "http://D-eureka-server-http:2/eureka"},
		{"consul", "consul", "http://D-consul-http:2"},
		{"nacos", "", "http://D-registry-nacos:2"},
		{"control", "", "http://D-registry-control:2"},
	} {
		if got := registryURL(fakeNet{}, tc.kind, tc.container); got != tc.want {
			t.Errorf("%s/%s: %s, want %s", tc.kind, tc.container, got, tc.want)
		}
	}
}

// test-no-images is a provider factory that cannot run images, as the process
// provider cannot.
var noImagesUsed atomic.Bool

func init() {
	RegisterProvider("test-no-images", Factory{New: func() Provider { noImagesUsed.Store(true); return nil }})
}

func TestRunRefusesContainersOnAProviderWithoutImages(t *testing.T) {
	s := mustScenario(t, containerScenario)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := Run(ctx, s, Options{Provider: "test-no-images", BinDir: t.TempDir()})
	if res.Status != report.Error || !strings.Contains(res.Reason, "topology.containers (consul: hashicorp/consul:1.19): the test-no-images provider cannot run images") {
		t.Fatalf("status %s reason %q", res.Status, res.Reason)
	}
	if noImagesUsed.Load() {
		t.Fatal("the provider was created before the refusal")
	}
	if len(res.Containers) != 2 || res.Containers[1].Name != "nacos" || res.Containers[1].Ports["grpc"] != 19848 {
		t.Fatalf("report containers %+v", res.Containers)
	}
}

func TestWaitReadyChecksStatusAndBody(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Like Consul: 200 with "" until a leader is elected.
		if calls.Add(1) < 3 {
			fmt.Fprint(w, `""`)
			return
		}
		fmt.Fprint(w, `"172.18.0.2:8300"`)
	}))
	defer srv.Close()
	addr := func(context.Context) (string, error) { return strings.TrimPrefix(srv.URL, "http://"), nil }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := &Component{Name: "consul", Ready: Probe{Port: "http", Path: "/v1/status/leader", Body: ":8300"}}
	if err := WaitReady(ctx, c, addr, nil); err != nil || calls.Load() != 3 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	c.Ready = Probe{Port: "http", Path: "/", Status: 204}
	if err := WaitReady(short, c, addr, nil); err == nil || !strings.Contains(err.Error(), "answered 200, want 204") {
		t.Fatalf("wrong status accepted: %v", err)
	}
}
