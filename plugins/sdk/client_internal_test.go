package sdk

import (
	"context"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// streamless is a plugin server without the Calls stream, as a plugin
// built before it would be.
type streamless struct{ *server }

func (streamless) Calls(pluginv1.Plugin_CallsServer) error {
	return status.Error(codes.Unimplemented, "no Calls")
}

// TestClientFallsBackToUnaryCalls: against a plugin without the stream,
// on either path, calls go one RPC each.
func TestClientFallsBackToUnaryCalls(t *testing.T) {
	for _, direct := range []bool{false, true} {
		c := testClient(t, streamless{newServer(ServeConfig{
			Request: RequestHandlerFunc(func(_ context.Context, r *Request) (*RequestResult, error) {
				return &RequestResult{Header: HeaderChanges{Set: http.Header{"X-Path": {r.Path}}}}, nil
			}),
		}, Logger())}, direct)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for range 2 {
			res, err := c.HandleRequest(ctx, &Request{Path: "/a"})
			if err != nil || res.Header.Set.Get("X-Path") != "/a" {
				t.Fatalf("unary call (own connection: %v): %+v, %v", direct, res, err)
			}
		}
		if !c.unary {
			t.Fatalf("the client did not switch to unary calls (own connection: %v)", direct)
		}
	}
}
