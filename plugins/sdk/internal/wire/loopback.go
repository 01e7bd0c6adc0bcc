package wire

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// Loopback serves svc in the test's own process, behind a real gRPC server
// on a Unix socket, with srv's calls' channel on two real pipes, and
// returns a host's Conn to it, its calls on the channel (useChannel) or on
// the gRPC stream: the protocol runs exactly as between processes. svc is
// srv, or a service that embeds it (package sdk's adds Describe).
// Everything closes when the test ends. It backs sdk.TestClient and the
// SDK's own tests.
func Loopback(t testing.TB, svc pluginv1.PluginServer, srv *Server, useChannel bool) *Conn {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdk") // short: a socket path has a length limit
	if err != nil {
		t.Fatalf("plugin loopback: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock := filepath.Join(dir, "plugin.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("plugin loopback: %v", err)
	}
	s := grpc.NewServer(ServerOptions()...)
	pluginv1.RegisterPluginServer(s, svc)
	go func() { _ = s.Serve(ln) }() // ends with Stop
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("unix://"+sock, append(DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatalf("plugin loopback: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // the test is over; a close error has nobody to tell
	pipes, err := NewPipes()
	if err != nil {
		t.Fatalf("plugin loopback: %v", err)
	}
	ch := newChannel(srv, pipes.takePlugin())
	srv.channel = ch
	c := NewConn(pluginv1.NewPluginClient(conn))
	t.Cleanup(func() { // registered last, so it runs first
		c.Close()
		pipes.Close()
		ch.close()
	})
	if useChannel {
		if err := c.UseChannel(t.Context(), pipes, 0, nil); err != nil {
			t.Fatalf("plugin loopback: %v", err)
		}
	}
	return c
}
