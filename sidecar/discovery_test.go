package sidecar_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/meshview"
)

// Discovery mode end to end, driven through the mesh view as a registry
// front-end would: the app registers and lands in the control plane at its
// sidecar's ingress; a lookup answers a loopback port of the sidecar that
// carries calls to that service through the mesh, whatever the Host header.
func TestDiscoveryModeThroughMeshView(t *testing.T) {
	cp := startControl(t)
	orders := startEcho(t, "orders-1")
	appSidecar(t, cp, "orders", orders, nil, nil)

	shop := discoverySidecar(t, cp, "shop", nil)
	view := shop.sc.MeshView()

	// The shop app registers itself (as its Eureka client would, through the front-end).
	app := &registry.Instance{ID: "shop-1", Service: "SHOP", Host: "127.0.0.1", Port: 8080}
	if _, err := view.Register(testCtx(t, 5*time.Second), app); err != nil {
		t.Fatal(err)
	}
	up, err := cp.client.Instance(testCtx(t, 5*time.Second), registry.NewInstanceKey("", "", "shop", "shop-1"))
	if err != nil {
		t.Fatal(err)
	}
	if up.Address() != shop.ingress || up.Metadata[meshview.MetaAppPort] != "8080" {
		t.Errorf("control plane has shop-1 at %s (app port %q); want the sidecar ingress %s", up.Address(), up.Metadata[meshview.MetaAppPort], shop.ingress)
	}

	// The app looks orders up and calls the address it got.
	var found []*registry.Instance
	poll.Until(t, "orders up in the mesh view", func() bool {
		found, _, _ = view.List(testCtx(t, 5*time.Second), registry.Filter{Service: "orders"})
		return len(found) == 1 && found[0].Status == registry.StatusUp
	})
	req, _ := http.NewRequest(http.MethodGet, "http://"+found[0].Address()+"/hello", nil)
	req.Host = found[0].Address() // a client that puts the address in Host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "orders-1" {
		t.Errorf("call via discovered address: %d %q; want orders-1's answer", resp.StatusCode, body)
	}
	if orders.hits.Load() == 0 {
		t.Error("orders app never reached")
	}
}

// discoverySidecar starts the sidecar of service in discovery mode (the
// registry front-ends at their defaults unless set changes them) and waits
// for its mesh view.
func discoverySidecar(t *testing.T, cp *controlPlane, service string, set func(*config.Discovery)) *harness {
	t.Helper()
	first := loopback.Port(t, 20)
	h := startSidecar(t, testConfig(t, func(c *config.Config) {
		c.Service.Name = service
		c.Control.Address = cp.url
		c.Control.WatchWait = time.Second
		c.Discovery = config.Discovery{Enabled: true, LoopbackHost: "127.0.0.1", FirstPort: first, LastPort: first + 20}
		if set != nil {
			set(&c.Discovery)
		}
	}), cp.client)
	poll.Until(t, "the mesh view", func() bool { return h.sc.MeshView() != nil })
	return h
}

// Discovery mode with the real Nacos front-end: a Nacos 1.x-style client
// registers and looks up over HTTP on localhost.
func TestDiscoveryModeNacos(t *testing.T) {
	cp := startControl(t)
	orders := startEcho(t, "orders-1")
	appSidecar(t, cp, "orders", orders, nil, nil)
	nacosPort := loopback.Port(t, 1000)
	first := loopback.Port(t, 20)
	cfg := testConfig(t, func(c *config.Config) {
		c.Service.Name = "shop"
		c.Control.Address = cp.url
		c.Control.WatchWait = time.Second
		c.Discovery = config.Discovery{Enabled: true, FrontEnds: map[string]string{"nacos": "127.0.0.1:" + strconv.Itoa(nacosPort)}, LoopbackHost: "127.0.0.1", FirstPort: first, LastPort: first + 20}
	})
	startSidecar(t, cfg, cp.client)
	base := "http://127.0.0.1:" + strconv.Itoa(nacosPort)
	poll.Until(t, "orders listed by the Nacos front-end", func() bool {
		resp, err := http.Get(base + "/nacos/v1/ns/instance/list?serviceName=DEFAULT_GROUP%40%40orders")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var info struct {
			Hosts []struct {
				IP   string
				Port int
			}
		}
		return json.NewDecoder(resp.Body).Decode(&info) == nil && len(info.Hosts) == 1
	})
	form := url.Values{"serviceName": {"DEFAULT_GROUP@@shop"}, "ip": {"127.0.0.1"}, "port": {"8080"}, "ephemeral": {"true"}, "metadata": {`{"version":"v3"}`}}
	resp, err := http.PostForm(base+"/nacos/v1/ns/instance", form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("register answered %d %q", resp.StatusCode, b)
	}
	var shop *registry.Instance
	poll.Until(t, "shop registered with the control plane", func() bool {
		list, _, err := cp.client.Instances(testCtx(t, 5*time.Second), registry.Filter{Service: "shop"})
		if err != nil || len(list) != 1 {
			return false
		}
		shop = list[0]
		return true
	})
	if shop.Port == 8080 || shop.Labels["version"] != "v3" {
		t.Errorf("control plane has shop at %s labels %v; want the sidecar ingress and version v3", shop.Address(), shop.Labels)
	}
	resp, err = http.Get(base + "/nacos/v1/ns/instance/list?serviceName=DEFAULT_GROUP%40%40orders")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Hosts []struct {
			IP   string `json:"ip"`
			Port int    `json:"port"`
		} `json:"hosts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || len(info.Hosts) != 1 {
		t.Fatalf("orders lookup: %+v, %v", info, err)
	}
	resp.Body.Close()
	got, err := http.Get("http://" + net.JoinHostPort(info.Hosts[0].IP, strconv.Itoa(info.Hosts[0].Port)) + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(got.Body)
	got.Body.Close()
	if string(b) != "orders-1" {
		t.Errorf("calling the looked-up address answered %q, want orders-1 (through the mesh)", b)
	}
}

// Discovery mode with the real Consul front-end and the real consul/api
// client: the app registers through its local agent, and a health query
// answers the caller's loopback port for the target service.
func TestDiscoveryModeConsul(t *testing.T) {
	cp := startControl(t)
	orders := startEcho(t, "orders-1")
	appSidecar(t, cp, "orders", orders, nil, nil)
	addr := loopback.Addr(t)
	first := loopback.Port(t, 20)
	cfg := testConfig(t, func(c *config.Config) {
		c.Service.Name = "shop"
		c.Control.Address = cp.url
		c.Control.WatchWait = time.Second
		c.Discovery = config.Discovery{Enabled: true, FrontEnds: map[string]string{"consul": addr}, LoopbackHost: "127.0.0.1", FirstPort: first, LastPort: first + 20}
	})
	startSidecar(t, cfg, cp.client)
	client, err := consulapi.NewClient(&consulapi.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the Consul front-end answering", func() bool {
		_, err := client.Agent().Self()
		return err == nil
	})
	if err := client.Agent().ServiceRegister(&consulapi.AgentServiceRegistration{
		ID: "shop-1", Name: "shop", Address: "127.0.0.1", Port: 8080, Meta: map[string]string{"version": "v3"},
	}); err != nil {
		t.Fatal(err)
	}
	var shop *registry.Instance
	poll.Until(t, "shop registered with the control plane", func() bool {
		list, _, err := cp.client.Instances(testCtx(t, 5*time.Second), registry.Filter{Service: "shop"})
		if err != nil || len(list) != 1 {
			return false
		}
		shop = list[0]
		return true
	})
	if shop.Port == 8080 || shop.Labels["version"] != "v3" || shop.Metadata[meshview.MetaAppPort] != "8080" {
		t.Errorf("control plane has shop at %s labels %v; want the sidecar ingress, version v3", shop.Address(), shop.Labels)
	}
	var entries []*consulapi.ServiceEntry
	poll.Until(t, "orders passing in the Consul front-end", func() bool {
		entries, _, err = client.Health().Service("orders", "", true, nil)
		return err == nil && len(entries) == 1
	})
	target := net.JoinHostPort(entries[0].Service.Address, strconv.Itoa(entries[0].Service.Port))
	resp, err := http.Get("http://" + target + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "orders-1" {
		t.Errorf("calling %s (from Consul) answered %q, want orders-1 through the mesh", target, b)
	}
}

// TestDiscoveryModeEureka drives discovery mode with the real fargo client:
// the app registers through its sidecar's Eureka front-end and finds other
// services at this sidecar's loopback ports.
func TestDiscoveryModeEureka(t *testing.T) {
	cp := startControl(t)
	orders := startEcho(t, "orders-1")
	appSidecar(t, cp, "orders", orders, nil, nil)
	addr := loopback.Addr(t)
	first := loopback.Port(t, 20)
	cfg := testConfig(t, func(c *config.Config) {
		c.Service.Name = "shop"
		c.Control.Address = cp.url
		c.Control.WatchWait = time.Second
		c.Discovery = config.Discovery{Enabled: true, FrontEnds: map[string]string{"eureka": addr}, LoopbackHost: "127.0.0.1", FirstPort: first, LastPort: first + 20}
	})
	startSidecar(t, cfg, cp.client)
	conn := fargo.NewConn("http://" + addr + "/eureka")
	conn.UseJson = true
	poll.Until(t, "the Eureka front-end answering", func() bool {
		_, err := conn.GetApps()
		return err == nil
	})
	app := &fargo.Instance{
		InstanceId: "shop-1", HostName: "127.0.0.1", App: "SHOP", IPAddr: "127.0.0.1", VipAddress: "shop",
		Port: 8080, PortEnabled: true, Status: fargo.UP, DataCenterInfo: fargo.DataCenterInfo{Name: fargo.MyOwn},
		LeaseInfo: fargo.LeaseInfo{RenewalIntervalInSecs: 30, DurationInSecs: 90},
	}
	app.SetMetadataString("version", "v3")
	if err := conn.RegisterInstance(app); err != nil {
		t.Fatal(err)
	}
	var shop *registry.Instance
	poll.Until(t, "shop registered with the control plane", func() bool {
		list, _, err := cp.client.Instances(testCtx(t, 5*time.Second), registry.Filter{Service: "shop"})
		if err != nil || len(list) != 1 {
			return false
		}
		shop = list[0]
		return true
	})
	if shop.Port == 8080 || shop.Labels["version"] != "v3" || shop.Metadata[meshview.MetaAppPort] != "8080" {
		t.Errorf("control plane has shop at %s labels %v; want the sidecar ingress, version v3", shop.Address(), shop.Labels)
	}
	var target string
	poll.Until(t, "orders listed by the Eureka front-end", func() bool {
		a, err := conn.GetApp("ORDERS")
		if err != nil || len(a.Instances) != 1 {
			return false
		}
		target = net.JoinHostPort(a.Instances[0].IPAddr, strconv.Itoa(a.Instances[0].Port))
		return true
	})
	resp, err := http.Get("http://" + target + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "orders-1" {
		t.Errorf("calling %s (from Eureka) answered %q, want orders-1 through the mesh", target, b)
	}
}
