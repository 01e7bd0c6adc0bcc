package sidecar_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

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

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	first := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := testConfig(t, func(c *config.Config) {
		c.Service.Name = "shop"
		c.Control.Address = cp.url
		c.Control.WatchWait = time.Second
		c.Discovery = config.Discovery{Enabled: true, LoopbackHost: "127.0.0.1", FirstPort: first, LastPort: first + 20}
	})
	shop := startSidecar(t, cfg, cp.client)
	waitFor(t, 10*time.Second, func() bool { return shop.sc.MeshView() != nil })
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
	waitFor(t, 10*time.Second, func() bool {
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
