package sidecar_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/sidecar/config"
)

// http1App runs an app that speaks HTTP/1.1 only (net/http's default
// server) behind a sidecar whose port protocol is http ("as the caller
// spoke"); it returns the sidecar.
func http1App(t *testing.T) *harness {
	t.Helper()
	app := startEcho(t, "orders-1")
	return startSidecar(t, testConfig(t, func(c *config.Config) {
		c.Service.Name = "orders"
		_, port, _ := splitHostPort(app.addr)
		c.Service.Ports = []config.Port{{Name: "rest", Port: port, Protocol: "http"}}
	}), nil)
}

// h2cClient speaks HTTP/2 with prior knowledge, as gRPC clients and
// h2c-configured Spring WebClients do.
func h2cClient(t *testing.T) *http.Client {
	t.Helper()
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: p}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// An h2c caller of an HTTP/1.1-only app is served: the sidecar learns
// that the app does not speak h2c and goes on in HTTP/1.1 (the first
// request included), saying so once, not per request. Before, every such
// request got 502 reset.
func TestIngressServesH2CCallersOfHTTP1App(t *testing.T) {
	h := http1App(t)
	c := h2cClient(t)
	for i := range 20 {
		var body io.Reader
		method := http.MethodGet
		if i%2 == 1 {
			method, body = http.MethodPost, strings.NewReader("order")
		}
		req, _ := http.NewRequest(method, "http://"+h.ingress+"/orders", body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "orders-1" || resp.ProtoMajor != 2 {
			t.Fatalf("%s %d: %s %d %q (%s); want the app's 200 over HTTP/2", method, i, resp.Proto, resp.StatusCode, b, resp.Header.Get("X-Mesh-Error"))
		}
	}
	if m := scrape(t, h.admin); !contains(m, "meshbridge_sidecar_upstream_h2c_refusals_total 1\n") {
		t.Errorf("want the refusal counted once:\n%s", grepLines(m, "h2c"))
	}
}

// A gRPC caller of an app that does not speak HTTP/2 gets a gRPC status
// that says so (UNAVAILABLE), not a bare 502 its client has to guess at.
func TestIngressGRPCToHTTP1AppIsUnavailable(t *testing.T) {
	h := http1App(t)
	conn, err := grpc.NewClient(h.ingress, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	for i := range 3 { // the first learns, the others know
		_, err := client.Check(testCtx(t, 10*time.Second), &healthpb.HealthCheckRequest{})
		st, _ := status.FromError(err)
		if st.Code() != codes.Unavailable || !strings.Contains(st.Message(), "does not speak HTTP/2") {
			t.Fatalf("call %d: %v; want UNAVAILABLE saying the upstream does not speak HTTP/2", i, err)
		}
	}
	if m := scrape(t, h.admin); !contains(m, "meshbridge_sidecar_upstream_h2c_refusals_total 1\n") ||
		!contains(m, `meshbridge_sidecar_request_errors_total{direction="inbound",reason="h2c_refused",service="orders",subset=""} 3`) {
		t.Errorf("want the refusal counted once and each failed call once:\n%s", grepLines(m, "h2c"))
	}
}
