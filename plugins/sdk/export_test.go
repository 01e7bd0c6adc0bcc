package sdk

import "testing"

// ClientViaGRPC is TestClient with the calls on grpc-go's transport,
// the path a client takes when the channel cannot be opened.
func ClientViaGRPC(t testing.TB, cfg ServeConfig) *Client {
	t.Helper()
	return testClient(t, newServer(cfg, Logger()), false)
}
