package sidecar_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/handlers/timeout"
)

// wsApp is an app's handler: WebSocket upgrades are accepted (after a
// pause on /slow), greeted with the app's ID and echoed; /refuse answers
// an upgrade with 400; anything else gets the ID as plain HTTP.
func wsApp(id string) http.HandlerFunc {
	up := websocket.Upgrader{}
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/refuse":
			http.Error(w, "no websocket here", http.StatusBadRequest)
			return
		case !websocket.IsWebSocketUpgrade(r):
			_, _ = io.WriteString(w, id)
			return
		case r.URL.Path == "/slow":
			time.Sleep(time.Second)
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if c.WriteMessage(websocket.TextMessage, []byte("hello from "+id)) != nil {
			return
		}
		for {
			mt, m, err := c.ReadMessage()
			if err != nil || c.WriteMessage(mt, m) != nil {
				return
			}
		}
	}
}

// wsMesh runs a WebSocket app "orders-1" behind its sidecar (callee) and
// a caller sidecar that knows the instance.
func wsMesh(t *testing.T) (callee, caller *harness) {
	t.Helper()
	cp := startControl(t)
	callee = appSidecar(t, cp, "orders", startWSApp(t, "orders-1"), nil, nil)
	caller = callerSidecar(t, cp)
	waitInstances(t, caller, "orders", 1)
	return callee, caller
}

// startWSApp starts an echo instance that speaks WebSocket (wsApp).
func startWSApp(t *testing.T, id string) *echo {
	e := startEcho(t, id)
	e.setHandle(wsApp(id))
	return e
}

// dialWS opens a WebSocket to path on service through addr (an egress or
// a loopback listener), the service named by the Host header.
func dialWS(t *testing.T, addr, service, path string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	return dialWSWith(t, &websocket.Dialer{HandshakeTimeout: 5 * time.Second}, addr, service, path, hdr)
}

func dialWSWith(t *testing.T, d *websocket.Dialer, addr, service, path string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("Host", service)
	c, resp, err := d.DialContext(testCtx(t, 10*time.Second), "ws://"+addr+path, hdr)
	if c != nil {
		t.Cleanup(func() { c.Close() })
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	}
	return c, resp, err
}

// proxyForm is a connection to an HTTP proxy on which gorilla's handshake
// leaves in absolute form ("GET http://orders/ws HTTP/1.1"), as HTTP
// clients in proxy mode send requests; gorilla itself sends origin form
// (and uses CONNECT when given a proxy).
type proxyForm struct {
	net.Conn
	host string
	done bool
}

func (c *proxyForm) Write(p []byte) (int, error) {
	if c.done {
		return c.Conn.Write(p)
	}
	c.done = true
	method, rest, ok := bytes.Cut(p, []byte(" "))
	if !ok {
		return 0, errors.New("proxyForm: no request line in the first write")
	}
	line := append(append(append([]byte(nil), method...), " http://"+c.host...), rest...)
	if _, err := c.Conn.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// proxyDialer dials egress for every WebSocket and sends the handshake in
// absolute form for service.
func proxyDialer(egress, service string) *websocket.Dialer {
	return &websocket.Dialer{HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, "tcp", egress)
			if err != nil {
				return nil, err
			}
			return &proxyForm{Conn: c, host: service}, nil
		}}
}

// greeting reads the first message, the app's hello.
func greeting(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_, m, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("reading the greeting: %v", err)
	}
	return string(m)
}

// echoes sends a text and a large binary message and checks both come back.
func echoes(t *testing.T, c *websocket.Conn) {
	t.Helper()
	big := bytes.Repeat([]byte("0123456789abcdef"), 16<<10) // 256 KiB: many reads each way
	for _, m := range []struct {
		typ  int
		data []byte
	}{{websocket.TextMessage, []byte("ping")}, {websocket.BinaryMessage, big}} {
		if err := c.WriteMessage(m.typ, m.data); err != nil {
			t.Fatalf("write: %v", err)
		}
		typ, got, err := c.ReadMessage()
		if err != nil || typ != m.typ || !bytes.Equal(got, m.data) {
			t.Fatalf("echo of a %d-byte message: type %d, %d bytes, %v", len(m.data), typ, len(got), err)
		}
	}
}

// WebSocket through two sidecars (caller egress → callee ingress → app),
// by Host header and in HTTP proxy form: messages echo both ways, both
// hops count the upgrade, a refused upgrade is a plain answer, and
// keep-alive requests go on beside an open tunnel.
func TestWebSocketThroughTwoSidecars(t *testing.T) {
	callee, caller := wsMesh(t)

	byHost, _, err := dialWS(t, caller.egress, "orders", "/ws", nil)
	if err != nil {
		t.Fatalf("dial by Host: %v", err)
	}
	byProxy, _, err := dialWSWith(t, proxyDialer(caller.egress, "orders"), caller.egress, "orders", "/ws", nil)
	if err != nil {
		t.Fatalf("dial in proxy form: %v", err)
	}
	for name, c := range map[string]*websocket.Conn{"by Host": byHost, "proxy form": byProxy} {
		if g := greeting(t, c); g != "hello from orders-1" {
			t.Errorf("%s: greeting %q", name, g)
		}
		echoes(t, c)
	}

	// Ordinary keep-alive traffic beside the open tunnels: answered, on one
	// reused connection.
	reused := 0
	for i := range 5 {
		req, _ := http.NewRequest(http.MethodGet, "http://orders/plain", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(ci httptrace.GotConnInfo) {
				if ci.Reused {
					reused++
				}
			}}))
		resp, err := caller.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "orders-1" {
			t.Fatalf("request %d beside the tunnels: %d %q", i, resp.StatusCode, body)
		}
	}
	if reused != 4 {
		t.Errorf("%d of 4 follow-up requests reused the keep-alive connection", reused)
	}

	for _, m := range []struct{ admin, series string }{
		{caller.admin, `meshbridge_sidecar_upgrades_total{direction="outbound",service="orders"} 2`},
		{caller.admin, `meshbridge_sidecar_upgrades_open{direction="outbound",service="orders"} 2`},
		{callee.admin, `meshbridge_sidecar_upgrades_total{direction="inbound",service="orders"} 2`},
		{callee.admin, `meshbridge_sidecar_upgrades_open{direction="inbound",service="orders"} 2`},
	} {
		if got := scrape(t, m.admin); !contains(got, m.series) {
			t.Errorf("want %s in:\n%s", m.series, grepLines(got, "upgrades"))
		}
	}
	byHost.Close()
	byProxy.Close()
	poll.Until(t, "no upgrades open on either side", func() bool {
		return contains(scrape(t, caller.admin), `upgrades_open{direction="outbound",service="orders"} 0`) &&
			contains(scrape(t, callee.admin), `upgrades_open{direction="inbound",service="orders"} 0`)
	}, poll.Within(5*time.Second))

	// The app refuses: its answer comes back as it is.
	_, resp, err := dialWS(t, caller.egress, "orders", "/refuse", nil)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("refused upgrade: %v, %v; want the app's 400", err, resp)
	}
	if body, _ := io.ReadAll(resp.Body); !strings.Contains(string(body), "no websocket here") {
		t.Errorf("refusal body %q; want the app's", body)
	}
}

// A canary rule steers upgrades like any request: colored handshakes
// reach the canary, the rest the stable instances.
func TestWebSocketCanary(t *testing.T) {
	h := startSidecar(t, testConfig(t, nil), nil)
	stable, cn := startWSApp(t, "stable-1"), startWSApp(t, "canary-1")
	h.set([]*registry.Instance{
		stable.instance("orders", map[string]string{"version": "v1"}),
		cn.instance("orders", map[string]string{"version": "v2"}),
	}, resource(t, control.KindCanaryRule, "orders-v2", canary("orders", 1, map[string]string{"version": "v2"}, "",
		control.HeaderMatch{Name: "X-Canary", Exact: "true"})))
	for i := range 5 {
		c, _, err := dialWS(t, h.egress, "orders", "/ws", http.Header{"X-Canary": {"true"}})
		if err != nil {
			t.Fatal(err)
		}
		if g := greeting(t, c); g != "hello from canary-1" {
			t.Fatalf("colored upgrade %d reached %q", i, g)
		}
		c.Close()
		c, _, err = dialWS(t, h.egress, "orders", "/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		if g := greeting(t, c); g != "hello from stable-1" {
			t.Fatalf("uncolored upgrade %d reached %q", i, g)
		}
		c.Close()
	}
}

// The request timeout bounds the handshake, not the tunnel.
func TestWebSocketOutlivesRequestTimeout(t *testing.T) {
	const limit = 300 * time.Millisecond
	h := startSidecar(t, testConfig(t, func(c *config.Config) {
		c.Handlers["timeout"].(*timeout.Config).Default = limit
	}), nil)
	app := startWSApp(t, "orders-1")
	h.set([]*registry.Instance{app.instance("orders", nil)})

	c, _, err := dialWS(t, h.egress, "orders", "/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	greeting(t, c)
	time.Sleep(2 * limit) // the tunnel outlives the request timeout
	echoes(t, c)

	_, resp, err := dialWS(t, h.egress, "orders", "/slow", nil)
	if resp == nil || resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("handshake slower than the timeout: %v, %v; want 504", err, resp)
	}
}

// On drain an open tunnel goes on working for the drain window, then is
// closed, and the sidecar stops.
func TestWebSocketDrain(t *testing.T) {
	const window = time.Second
	egress, cancel, done := drainingSidecar(t, window, startWSApp(t, "orders-1"))

	c, _, err := dialWS(t, egress, "orders", "/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	greeting(t, c)
	start := time.Now()
	cancel()
	echoes(t, c) // still carried while draining
	if _, _, err := c.ReadMessage(); err == nil {
		t.Fatal("message from nowhere")
	}
	if took := time.Since(start); took < window-50*time.Millisecond {
		t.Errorf("tunnel closed %v into a %v drain; want it kept for the window", took, window)
	}
	waitStopped(t, done)
}

// Discovery mode: an app that looked the service up and dialed the
// loopback endpoint it got reaches it over WebSocket.
func TestWebSocketThroughMeshView(t *testing.T) {
	cp := startControl(t)
	app := startWSApp(t, "orders-1")
	appSidecar(t, cp, "orders", app, nil, nil)
	shop := discoverySidecar(t, cp, "shop", nil)
	var found []*registry.Instance
	poll.Until(t, "orders up in the mesh view", func() bool {
		found, _, _ = shop.sc.MeshView().List(testCtx(t, 5*time.Second), registry.Filter{Service: "orders"})
		return len(found) == 1 && found[0].Status == registry.StatusUp
	})
	addr := found[0].Address()
	c, _, err := dialWS(t, addr, addr, "/ws", nil) // Host is the address, as a discovery client sends it
	if err != nil {
		t.Fatal(err)
	}
	if g := greeting(t, c); g != "hello from orders-1" {
		t.Errorf("greeting %q", g)
	}
	echoes(t, c)
}
