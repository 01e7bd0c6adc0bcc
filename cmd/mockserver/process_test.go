package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app/apptest"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
)

// The "Show it" test runs registry-adapter and mockserver as the
// processes they are, on loopback, and looks the mock up through the
// real clients of Eureka (hudl/fargo), Consul (hashicorp/consul/api) and
// Nacos (nacos-sdk-go/v2).

// start runs mockserver or registry-adapter until the test ends.
func start(t *testing.T, name string, args ...string) *apptest.Process {
	t.Helper()
	return apptest.Start(t, apptest.Build(t, ".", "../registry-adapter")[name], args...)
}

func TestBadStubSetExitsNamingTheFile(t *testing.T) {
	p := start(t, "mockserver", "--stubs", "testdata/badstubs", "--listen", loopback.Addr(t), "--admin-listen=")
	if code := p.Wait(t, 30*time.Second); code != 2 || !strings.Contains(p.Output(), `testdata/badstubs/mappings/pay.json: line 2: unknown key "bodyPattern"`) {
		t.Fatalf("exit %d, output %q; want 2 naming the file, line and key", code, p.Output())
	}
}

// startRegistry runs a registry-adapter serving the front-end its
// arguments turn on (none: the control API alone), and waits until it is
// ready; it returns the control API's address.
func startRegistry(t *testing.T, frontEnd ...string) string {
	t.Helper()
	addr := loopback.Addr(t)
	args := append([]string{"--data-dir", t.TempDir(), "--control-listen", addr, "--eureka-listen=", "--consul-listen=", "--nacos-listen="}, frontEnd...)
	start(t, "registry-adapter", args...)
	poll.UntilNil(t, "registry-adapter ready", poll.GetOK("http://"+addr+"/readyz"), poll.Within(20*time.Second))
	return addr
}

// endpoint is an instance as a registry client found it.
type endpoint struct {
	addr string
	meta map[string]string
}

// TestDiscoveredThroughEveryRegistryAndGoneAfterSIGTERM registers the mock
// in four registries at once, each a registry-adapter process serving one
// protocol (views of one registry would hold one instance that the
// registrations fight over): Eureka, Consul, Nacos and the mesh's control
// API. Each protocol's client (fargo, consul/api, nacos-sdk-go,
// control.Client) finds it with its metadata, calls it and gets the
// stubbed answer; after SIGTERM the mock exits 0 and no client finds it.
func TestDiscoveredThroughEveryRegistryAndGoneAfterSIGTERM(t *testing.T) {
	nacosPort := loopback.Port(t, 1000)
	eurekaAddr, consulAddr := loopback.Addr(t), loopback.Addr(t)
	startRegistry(t, "--eureka-listen", eurekaAddr)
	startRegistry(t, "--consul-listen", consulAddr)
	startRegistry(t, fmt.Sprintf("--nacos-listen=127.0.0.1:%d", nacosPort))
	meshAddr := startRegistry(t) // the control API alone

	mockAddr := loopback.Addr(t)
	mock := start(t, "mockserver", "--stubs", "testdata/stubs", "--listen", mockAddr, "--admin-listen", loopback.Addr(t),
		"--service", "payments", "--register", "eureka", "--register", "consul,nacos", "--register-version", "v-mock",
		"--eureka-url", "http://"+eurekaAddr+"/eureka", "--consul-url", "http://"+consulAddr,
		"--nacos-url", fmt.Sprintf("http://127.0.0.1:%d", nacosPort), "--register", "mesh", "--mesh-url", "http://"+meshAddr)

	lookups := map[string]func() ([]endpoint, error){
		"eureka": eurekaLookup(t, eurekaAddr),
		"consul": consulLookup(t, consulAddr),
		"nacos":  nacosLookup(t, nacosPort),
		"mesh":   meshLookup(t, meshAddr),
	}
	for name, lookup := range lookups {
		var found []endpoint
		poll.UntilNil(t, name+" finding the mock", func() error {
			var err error
			if found, err = lookup(); err == nil && len(found) != 1 {
				err = fmt.Errorf("found %d instances", len(found))
			}
			return err
		}, poll.Within(20*time.Second))
		e := found[0]
		if e.addr != mockAddr || e.meta["mock"] != "true" || e.meta["version"] != "v-mock" {
			t.Fatalf("%s found %+v; want %s with mock=true, version=v-mock", name, e, mockAddr)
		}
		resp, err := http.Post("http://"+e.addr+"/payments", "application/json", strings.NewReader(`{"amount": 5}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || string(body) != `{"state":"accepted"}` {
			t.Fatalf("%s: the mock answered %d %s", name, resp.StatusCode, body)
		}
	}

	if err := mock.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := mock.Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("mockserver exited %d after SIGTERM", code)
	}
	// The mock deregistered before it exited; Nacos's client learns it by
	// a push, the others at their next look.
	for name, lookup := range lookups {
		poll.UntilNil(t, name+" no longer finding the mock", func() error {
			found, err := lookup()
			if err == nil && len(found) != 0 {
				err = fmt.Errorf("still finds %+v", found)
			}
			return err
		})
	}
}

func eurekaLookup(t *testing.T, addr string) func() ([]endpoint, error) {
	logging.SetLevel(logging.CRITICAL, "fargo") // it logs every 404 while the test waits for one
	conn := fargo.NewConn("http://" + addr + "/eureka")
	conn.UseJson = true
	return func() ([]endpoint, error) {
		app, err := conn.GetApp("PAYMENTS")
		if errors.As(err, new(fargo.AppNotFoundError)) {
			return nil, nil // no instance left: Eureka knows no such application
		}
		if err != nil {
			return nil, err
		}
		var out []endpoint
		for _, ins := range app.Instances {
			meta := map[string]string{}
			for _, k := range []string{"mock", "version"} {
				meta[k], _ = ins.Metadata.GetString(k)
			}
			out = append(out, endpoint{addr: fmt.Sprintf("%s:%d", ins.IPAddr, ins.Port), meta: meta})
		}
		return out, nil
	}
}

func consulLookup(t *testing.T, addr string) func() ([]endpoint, error) {
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = addr
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return func() ([]endpoint, error) {
		entries, _, err := client.Health().Service("payments", "", true, nil)
		var out []endpoint
		for _, e := range entries {
			out = append(out, endpoint{addr: fmt.Sprintf("%s:%d", e.Service.Address, e.Service.Port), meta: e.Service.Meta})
		}
		return out, err
	}
}

func nacosLookup(t *testing.T, port int) func() ([]endpoint, error) {
	// By default the SDK keeps its last list when a push empties it (a
	// guard against a registry that lost its data); this test wants to
	// see the service empty.
	client, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig: constant.NewClientConfig(constant.WithTimeoutMs(5000), constant.WithNotLoadCacheAtStart(true), constant.WithUpdateCacheWhenEmpty(true),
			constant.WithLogDir(t.TempDir()), constant.WithCacheDir(t.TempDir()), constant.WithLogLevel("error")),
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig("127.0.0.1", uint64(port), constant.WithContextPath("/nacos"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseClient)
	return func() ([]endpoint, error) {
		hosts, err := client.SelectInstances(vo.SelectInstancesParam{ServiceName: "payments", HealthyOnly: true})
		var out []endpoint
		for _, h := range hosts {
			out = append(out, endpoint{addr: fmt.Sprintf("%s:%d", h.Ip, h.Port), meta: h.Metadata})
		}
		if err != nil && strings.Contains(err.Error(), "instance list is empty") {
			err = nil // the SDK's way of saying none
		}
		return out, err
	}
}

func meshLookup(t *testing.T, addr string) func() ([]endpoint, error) {
	client, err := control.NewClient("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	return func() ([]endpoint, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		list, _, err := client.Instances(ctx, registry.Filter{Service: "payments"})
		var out []endpoint
		for _, inst := range list {
			out = append(out, endpoint{addr: net.JoinHostPort(inst.Host, strconv.Itoa(inst.Port)), meta: inst.Metadata})
		}
		return out, err
	}
}
