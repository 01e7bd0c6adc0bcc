package sdk

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// streamless is a plugin server without the Calls stream, as a plugin
// built before it would be.
type streamless struct{ *server }

func (streamless) Calls(pluginv1.Plugin_CallsServer) error {
	return status.Error(codes.Unimplemented, "no Calls")
}

func TestClientFallsBackToUnaryCalls(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "plugin.sock"))
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	pluginv1.RegisterPluginServer(s, streamless{newServer(ServeConfig{
		Request: RequestHandlerFunc(func(_ context.Context, r *Request) (*RequestResult, error) {
			return &RequestResult{Header: HeaderChanges{Set: http.Header{"X-Path": {r.Path}}}}, nil
		}),
	}, Logger())})
	go func() { _ = s.Serve(ln) }() // ends with Stop below
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("unix://"+ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &Client{rpc: pluginv1.NewPluginClient(conn)}
	for range 2 {
		res, err := c.HandleRequest(ctx, &Request{Path: "/a"})
		if err != nil || res.Header.Set.Get("X-Path") != "/a" {
			t.Fatalf("unary call: %+v, %v", res, err)
		}
	}
	if !c.unary {
		t.Fatal("the client did not switch to unary calls")
	}
}
