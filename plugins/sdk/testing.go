package sdk

import (
	"testing"

	plugin "github.com/hashicorp/go-plugin"
)

// TestClient runs a plugin configuration in the test's own process, behind
// a real gRPC connection over a Unix socket, and returns a Client to call
// it: the protocol mapping runs exactly as it does between processes. The
// connection closes when the test ends.
func TestClient(t testing.TB, cfg ServeConfig) *Client {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sdk.TestClient: %v", err)
	}
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		PluginName: &grpcPlugin{server: newServer(cfg, Logger())},
	})
	// Close asks the server to shut down through go-plugin's controller,
	// which stops it; stopping it here as well would race with that.
	t.Cleanup(func() {
		_ = client.Close() // the test is over; a close error has nobody to tell
	})
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatalf("sdk.TestClient: dispense: %v", err)
	}
	return raw.(*Client)
}
