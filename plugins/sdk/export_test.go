package sdk

import "testing"

// ClientViaGRPC is TestClient with the calls on the gRPC stream, the path
// a host's calls take when the channel cannot be opened or broke.
func ClientViaGRPC(t testing.TB, cfg ServeConfig) *Client {
	t.Helper()
	return testClient(t, newServer(cfg, Logger()), false)
}
