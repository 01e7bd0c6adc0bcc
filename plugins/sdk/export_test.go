package sdk

import "testing"

// ClientViaGRPC is TestClient with the calls on grpc-go's transport,
// the path a client takes when their own connection cannot be made.
func ClientViaGRPC(t testing.TB, cfg ServeConfig) *Client {
	t.Helper()
	return testClient(t, newServer(cfg, Logger()), false)
}
