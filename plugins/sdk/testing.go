package sdk

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
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

// testClient serves srv on a Unix socket, and its channel on two pipes,
// and returns a client of it, with the calls on the channel (useChannel)
// or on gRPC's stream. srv is a *server, or a test's wrapper of one.
func testClient(t testing.TB, srv interface {
	pluginv1.PluginServer
	base() *server
}, useChannel bool) *Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdk") // short: a socket path has a length limit
	if err != nil {
		t.Fatalf("sdk.TestClient: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "plugin.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("sdk.TestClient: %v", err)
	}
	s := grpc.NewServer(serverOptions()...)
	pluginv1.RegisterPluginServer(s, srv)
	go func() { _ = s.Serve(ln) }() // ends with Stop
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("unix://"+sock, append(DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatalf("sdk.TestClient: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // the test is over; a close error has nobody to tell
	pipes, err := NewChannelPipes()
	if err != nil {
		t.Fatalf("sdk.TestClient: %v", err)
	}
	ch := newChannel(srv.base(), Logger(), pipes.takePlugin())
	srv.base().channel = ch
	c := &Client{rpc: pluginv1.NewPluginClient(conn)}
	t.Cleanup(func() { // registered last, so it runs first
		c.Close()
		pipes.Close()
		ch.close()
	})
	if useChannel {
		if err := c.UseChannel(t.Context(), pipes, 0, nil); err != nil {
			t.Fatalf("sdk.TestClient: %v", err)
		}
	}
	return c
}
