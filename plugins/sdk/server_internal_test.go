package sdk

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// TestDescribe: over the real protocol, Describe tells the host the SDK's
// version and what the configuration implements. (pluginhost's tests
// check how a host reads it.)
func TestDescribe(t *testing.T) {
	c := testClient(t, newServer(ServeConfig{
		Request:          RequestHandlerFunc(func(context.Context, *Request) (*RequestResult, error) { return Continue(), nil }),
		Response:         ResponseHandlerFunc(func(context.Context, *ResponseInfo) (*ResponseResult, error) { return &ResponseResult{}, nil }),
		RequestBodyLimit: 4,
	}, Logger()), true)
	got, err := c.conn.RPC().Describe(t.Context(), &pluginv1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := &pluginv1.DescribeResponse{SdkVersion: wire.SDKVersion, HttpRequest: true, HttpResponse: true, RequestBodyLimit: 4}
	if !proto.Equal(got, want) {
		t.Fatalf("describe = %v, want %v", got, want)
	}
}
