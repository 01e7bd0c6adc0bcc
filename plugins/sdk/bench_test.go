package sdk_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// BenchmarkInProcessCall is one header-only request-phase call through the
// SDK's client and server in one process (its calls' channel on two pipes):
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

// BenchmarkInProcessCallPaced makes the same call 2,000 times a second, as
// the sidecar chain benchmark does, so each call starts from idle
// goroutines and threads: with GOMAXPROCS=1 the call's hand-offs between
// goroutines stay on one thread, with more they wake others. Run it with
// -benchtime=1x (each iteration is 10,000 calls).
func BenchmarkInProcessCallPaced(b *testing.B) {
	c := sdk.TestClient(b, sdk.ServeConfig{Request: sdk.RequestHandlerFunc(func(context.Context, *sdk.Request) (*sdk.RequestResult, error) {
		return &sdk.RequestResult{Header: sdk.HeaderChanges{Set: http.Header{"X-Team": {"payments"}}}}, nil
	})})
	req := &sdk.Request{Method: "GET", Host: "orders", Path: "/orders/42", Header: http.Header{"Accept": {"application/json"}}}
	ctx := context.Background()
	for b.Loop() {
		took := make([]time.Duration, 0, 10000)
		next := time.Now()
		for range cap(took) {
			next = next.Add(time.Second / 2000)
			time.Sleep(time.Until(next))
			start := time.Now()
			if _, err := c.HandleRequest(ctx, req); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2])/1e3, "p50-µs")
		b.ReportMetric(float64(took[len(took)*99/100])/1e3, "p99-µs")
	}
}
