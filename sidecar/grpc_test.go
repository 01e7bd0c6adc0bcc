package sidecar_test

import (
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/meshbridge/meshbridge/sidecar/config"
)

// grpcApp starts a gRPC app serving the health service (orders.Orders
// SERVING) behind its own sidecar, registered as service.
func grpcApp(t *testing.T, cp *controlPlane, service string) (*health.Server, *harness) {
	t.Helper()
	ln := listen(t)
	hs := health.NewServer()
	hs.SetServingStatus("orders.Orders", healthpb.HealthCheckResponse_SERVING)
	gs := grpc.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(gs.Stop)
	app := &echo{id: "grpc-1", addr: ln.Addr().String()}
	callee := appSidecar(t, cp, service, app, nil, func(c *config.Config) {
		_, port, _ := splitHostPort(app.addr)
		c.Service.Ports = []config.Port{{Name: "grpc", Port: port, Protocol: "grpc"}}
	})
	return hs, callee
}

// gRPC (h2c) passes through two sidecars both ways: a unary call and a
// server stream whose updates must arrive as they happen, trailers included.
func TestGRPCThroughTwoSidecars(t *testing.T) {
	cp := startControl(t)
	hs, callee := grpcApp(t, cp, "grpcsvc")
	caller := callerSidecar(t, cp)
	waitInstances(t, caller, "grpcsvc", 1)

	conn, err := grpc.NewClient(caller.egress, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority("grpcsvc"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	ctx := testCtx(t, 10*time.Second)

	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "orders.Orders"})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check = %v, %v; want SERVING", resp, err)
	}
	// An error status travels in trailers.
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); err == nil || !contains(err.Error(), "NotFound") {
		t.Fatalf("Check(unknown) = %v; want a NotFound status from the app", err)
	}

	stream, err := client.Watch(ctx, &healthpb.HealthCheckRequest{Service: "orders.Orders"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("first Watch message = %v, %v", first, err)
	}
	hs.SetServingStatus("orders.Orders", healthpb.HealthCheckResponse_NOT_SERVING)
	next, err := stream.Recv()
	if err != nil || next.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("streamed update = %v, %v; want NOT_SERVING as it happens", next, err)
	}
	// Both hops saw the calls (no shortcut around a sidecar).
	if m := scrape(t, caller.admin); !contains(m, `meshbridge_sidecar_requests_total{code="200",direction="outbound",service="grpcsvc",subset="stable"} 3`) {
		t.Errorf("caller sidecar did not count 3 outbound gRPC calls:\n%s", grepLines(m, "requests_total"))
	}
	if m := scrape(t, callee.admin); !contains(m, `meshbridge_sidecar_requests_total{code="200",direction="inbound",service="grpcsvc",subset=""} 3`) {
		t.Errorf("callee sidecar did not count 3 inbound gRPC calls:\n%s", grepLines(m, "requests_total"))
	}
}
