package sdk

import (
	"testing"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// TestClient runs a plugin configuration in the test's own process, behind
// a real gRPC server on a Unix socket and a real calls' channel on two
// pipes, and returns a Client to call it as a host does (calls on the
// channel, the rest over gRPC): the protocol mapping runs exactly as it
// does between processes. Everything closes when the test ends.
func TestClient(t testing.TB, cfg ServeConfig) *Client {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sdk.TestClient: %v", err)
	}
	return testClient(t, newServer(cfg, Logger()), true)
}

// testClient is TestClient for srv, with the calls on the calls' channel
// (useChannel) or on the gRPC stream, its fallback.
func testClient(t testing.TB, srv *server, useChannel bool) *Client {
	t.Helper()
	return NewClient(wire.Loopback(t, srv, srv.Server, useChannel))
}
