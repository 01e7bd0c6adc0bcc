package sidecar_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
)

// connectTo opens a CONNECT tunnel to target through the egress and
// returns it once the egress said 200, with any other answer as an error.
func connectTo(ctx context.Context, egress, target string) (net.Conn, *http.Response, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", egress)
	if err != nil {
		return nil, nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	if _, err := io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\nHost: "+target+"\r\n\r\n"); err != nil {
		c.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, resp, nil
	}
	_ = c.SetDeadline(time.Time{})
	return &httpx.BufferedConn{Conn: c, Br: br}, resp, nil
}

// Clients that reach an HTTP proxy only by CONNECT (gorilla/websocket and
// the JDK's WebSocket client with a proxy set, gRPC clients with a proxy)
// get their mesh service: the tunnel ends in the egress, and what comes
// through it is routed like any outbound request, through both sidecars.
func TestConnectToMeshServiceIsRouted(t *testing.T) {
	callee, caller := wsMesh(t)

	// gorilla/websocket with a proxy sends CONNECT orders:80. The Host
	// inside names nothing the mesh knows: the tunnel decides.
	proxyURL, _ := url.Parse("http://" + caller.egress)
	ws, _, err := (&websocket.Dialer{Proxy: http.ProxyURL(proxyURL), HandshakeTimeout: 5 * time.Second}).
		DialContext(testCtx(t, 10*time.Second), "ws://orders/ws", http.Header{"Host": {"nothing.example"}})
	if err != nil {
		t.Fatalf("WebSocket through CONNECT: %v", err)
	}
	if g := greeting(t, ws); g != "hello from orders-1" {
		t.Errorf("greeting %q", g)
	}
	echoes(t, ws)
	ws.Close()

	// Plain HTTP/1.1 through one tunnel: several keep-alive requests, the
	// Host header naming nothing the mesh knows (the tunnel decides).
	tc, resp, err := connectTo(testCtx(t, 5*time.Second), caller.egress, "orders:8080")
	if err != nil || tc == nil {
		t.Fatalf("CONNECT orders:8080 = %v, %v; want 200", resp, err)
	}
	defer tc.Close()
	br := bufio.NewReader(tc)
	for i := range 3 {
		if _, err := io.WriteString(tc, "GET /plain HTTP/1.1\r\nHost: whatever.example\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		r, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d through the tunnel: %v", i, err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || string(body) != "orders-1" {
			t.Fatalf("request %d through the tunnel: %d %q", i, r.StatusCode, body)
		}
	}

	// Both hops saw the requests: the WebSocket handshake and three GETs.
	if m := scrape(t, caller.admin); !contains(m, `meshbridge_sidecar_requests_total{code="200",direction="outbound",service="orders",subset="stable"} 3`) ||
		!contains(m, `meshbridge_sidecar_upgrades_total{direction="outbound",service="orders"} 1`) {
		t.Errorf("caller sidecar did not count the tunnel's requests as outbound to orders:\n%s", grepLines(m, "orders"))
	}
	if m := scrape(t, callee.admin); !contains(m, `meshbridge_sidecar_upgrades_total{direction="inbound",service="orders"} 1`) {
		t.Errorf("callee sidecar did not see the upgrade:\n%s", grepLines(m, "upgrades"))
	}

	// A host that is no mesh service and not allowed is still refused.
	if c, resp, err := connectTo(testCtx(t, 5*time.Second), caller.egress, "nope.example:443"); c != nil || err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("CONNECT to an unknown host = %v, %v; want 403", resp, err)
	}

	// TLS through a tunnel to a mesh service cannot be routed: the egress
	// closes the tunnel, answering nothing (not an HTTP 400 to a
	// ClientHello).
	tc2, _, err := connectTo(testCtx(t, 5*time.Second), caller.egress, "orders:443")
	if err != nil || tc2 == nil {
		t.Fatalf("CONNECT orders:443: %v", err)
	}
	defer tc2.Close()
	if _, err := tc2.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00}); err != nil {
		t.Fatal(err)
	}
	_ = tc2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := io.Copy(io.Discard, tc2); err != nil || n != 0 {
		t.Errorf("TLS through a tunnel to a mesh service: %d bytes back, %v; want the tunnel closed with nothing", n, err)
	}

	// A CONNECT with a body is refused: its bytes would open the tunnel.
	bc, err := net.Dial("tcp", caller.egress)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	io.WriteString(bc, "CONNECT orders:80 HTTP/1.1\r\nHost: orders:80\r\nContent-Length: 4\r\n\r\nGET ")
	if r, err := http.ReadResponse(bufio.NewReader(bc), &http.Request{Method: http.MethodConnect}); err != nil || r.StatusCode != http.StatusBadRequest {
		t.Errorf("CONNECT with a body = %v, %v; want 400", r, err)
	}
}

// gRPC (h2c) through a CONNECT tunnel to a mesh service, as grpc-go sends
// it when a proxy is set: served by the egress's HTTP/2 side with the
// tunnel's service.
func TestConnectCarriesGRPC(t *testing.T) {
	cp := startControl(t)
	grpcApp(t, cp, "grpcsvc")
	caller := callerSidecar(t, cp)
	waitInstances(t, caller, "grpcsvc", 1)

	// The authority names nothing the mesh knows: the tunnel decides.
	var tunnels atomic.Int32
	conn, err := grpc.NewClient("passthrough:///grpcsvc:9090", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithAuthority("nothing.example"),
		grpc.WithContextDialer(func(ctx context.Context, target string) (net.Conn, error) {
			c, resp, err := connectTo(ctx, caller.egress, target)
			if err == nil && c == nil {
				t.Errorf("CONNECT %s: %s", target, resp.Status)
				return nil, io.ErrUnexpectedEOF
			}
			tunnels.Add(1)
			return c, err
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := testCtx(t, 10*time.Second)
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "orders.Orders"})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check through CONNECT = %v, %v; want SERVING", resp, err)
	}
	if n := tunnels.Load(); n != 1 {
		t.Errorf("%d tunnels opened, want 1", n)
	}
	if m := scrape(t, caller.admin); !contains(m, `meshbridge_sidecar_requests_total{code="200",direction="outbound",service="grpcsvc",subset="stable"} 1`) {
		t.Errorf("caller sidecar did not count the call as outbound to grpcsvc:\n%s", grepLines(m, "requests_total"))
	}
}

// On drain, a CONNECT tunnel to a mesh service is a keep-alive connection
// like any other: one waiting for its next request is closed at once (the
// sidecar stops well inside the drain window), not held for the window as
// a spliced tunnel is.
func TestConnectTunnelIdleClosedOnDrain(t *testing.T) {
	const window = 5 * time.Second
	egress, cancel, done := drainingSidecar(t, window, startWSApp(t, "orders-1"))

	tc, resp, err := connectTo(testCtx(t, 5*time.Second), egress, "orders:80")
	if err != nil || tc == nil {
		t.Fatalf("CONNECT orders:80 = %v, %v", resp, err)
	}
	defer tc.Close()
	br := bufio.NewReader(tc)
	if _, err := io.WriteString(tc, "GET /plain HTTP/1.1\r\nHost: orders\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()

	start := time.Now()
	cancel()
	waitStopped(t, done)
	if took := time.Since(start); took > window/2 {
		t.Errorf("sidecar took %v to stop with an idle tunnel; want it closed at once, not held for the %v window", took, window)
	}
	_ = tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Error("the idle tunnel is still open after the sidecar stopped")
	}
}

// A CONNECT target that egress.allowHosts lists is tunnelled to that host
// even when it also names a mesh service (here through an alias); without
// the listing, the same target reaches the mesh service.
func TestConnectToAllowedHostKeepsTunnel(t *testing.T) {
	ext := startEcho(t, "external")
	_, extPort, _ := splitHostPort(ext.addr)
	target := "localhost:" + strconv.Itoa(extPort)
	app := startWSApp(t, "orders-1")
	for _, tc := range []struct {
		allow []string
		want  string
	}{{[]string{target}, "external"}, {nil, "orders-1"}} {
		cfg := testConfig(t, func(c *config.Config) {
			c.Egress.AllowHosts = tc.allow
			c.Egress.Resolver.Aliases = map[string]string{"localhost": "orders"}
		})
		h := startSidecar(t, cfg, nil)
		h.set([]*registry.Instance{app.instance("orders", nil)})
		tunnel, resp, err := connectTo(testCtx(t, 5*time.Second), h.egress, target)
		if err != nil || tunnel == nil {
			t.Fatalf("allowHosts %v: CONNECT %s = %v, %v", tc.allow, target, resp, err)
		}
		if _, err := io.WriteString(tunnel, "GET /plain HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		r, err := http.ReadResponse(bufio.NewReader(tunnel), nil)
		if err != nil {
			t.Fatalf("allowHosts %v: %v", tc.allow, err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		tunnel.Close()
		if string(body) != tc.want {
			t.Errorf("allowHosts %v: the tunnel reached %q, want %q", tc.allow, body, tc.want)
		}
	}
}
