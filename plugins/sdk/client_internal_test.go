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

// streamless is a plugin server with neither the Calls stream nor the
// channel, as a plugin built before them would be.
type streamless struct{ *server }

func (streamless) Calls(pluginv1.Plugin_CallsServer) error {
	return status.Error(codes.Unimplemented, "no Calls")
}

func (streamless) OpenChannel(context.Context, *pluginv1.ChannelRequest) (*pluginv1.ChannelOffer, error) {
	return nil, status.Error(codes.Unimplemented, "no OpenChannel")
}

// TestClientFallsBackToUnaryCalls: against a plugin without the stream or
// the channel, calls go one RPC each, whether the host asked for the
// channel or not.
func TestClientFallsBackToUnaryCalls(t *testing.T) {
	for _, askChannel := range []bool{false, true} {
		c := testClient(t, streamless{newServer(ServeConfig{
			Request: RequestHandlerFunc(func(_ context.Context, r *Request) (*RequestResult, error) {
				return &RequestResult{Header: HeaderChanges{Set: http.Header{"X-Path": {r.Path}}}}, nil
			}),
		}, Logger())}, false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if askChannel {
			pipes, err := NewChannelPipes()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.UseChannel(ctx, pipes, 0, nil); status.Code(err) != codes.Unimplemented {
				t.Fatalf("UseChannel: want Unimplemented, got %v", err)
			}
			if pipes.host[0] != nil || pipes.plugin[0] != nil {
				t.Fatal("UseChannel left the pipes it did not use open")
			}
		}
		for range 2 {
			res, err := c.HandleRequest(ctx, &Request{Path: "/a"})
			if err != nil || res.Header.Set.Get("X-Path") != "/a" {
				t.Fatalf("unary call (channel asked for: %v): %+v, %v", askChannel, res, err)
			}
		}
		if !c.unary || c.channel.Load() != nil {
			t.Fatalf("the client did not switch to unary calls for good (channel asked for: %v)", askChannel)
		}
	}
}
