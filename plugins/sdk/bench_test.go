package sdk_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// BenchmarkInProcessCall is one header-only request-phase call through the
// SDK's client and server in one process (gRPC over a Unix socket, no TLS):
// the protocol's own cost, without a second process to wake up.
func BenchmarkInProcessCall(b *testing.B) {
	c := sdk.TestClient(b, sdk.ServeConfig{Request: sdk.RequestHandlerFunc(func(context.Context, *sdk.Request) (*sdk.RequestResult, error) {
		return &sdk.RequestResult{Header: sdk.HeaderChanges{Set: http.Header{"X-Team": {"payments"}}}}, nil
	})})
	req := &sdk.Request{Method: "GET", Host: "orders", Path: "/orders/42", Header: http.Header{
		"Accept": {"application/json"}, "User-Agent": {"Java/17"}, "X-Request-Id": {"0f8fad5b-d9cb-469f-a165-70867728950e"},
		"X-B3-Traceid": {"463ac35c9f6413ad48485a3953bb6124"}, "Authorization": {"Bearer x.y.z"},
	}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.HandleRequest(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
