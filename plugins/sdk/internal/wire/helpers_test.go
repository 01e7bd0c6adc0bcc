package wire

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// The tests of this package serve calls with a request-phase handler on
// the wire's own messages (package sdk maps them to plain types).

// httpHandler handles the request phase of a call.
type httpHandler func(ctx context.Context, r *pluginv1.HTTPRequest) (*pluginv1.RequestResult, error)

// testServer serves calls with h; other calls fail.
func testServer(h httpHandler) *Server {
	return NewServer(func(ctx context.Context, req *pluginv1.CallRequest) *pluginv1.CallResponse {
		res, err := h(ctx, req.GetRequest())
		if err != nil {
			return ErrorResponse(req.GetId(), err)
		}
		return &pluginv1.CallResponse{Id: req.GetId(), Result: &pluginv1.CallResponse_Request{Request: res}}
	}, false, slog.New(slog.DiscardHandler))
}

// loopback is srv behind a real gRPC server and channel (Loopback).
func loopback(t testing.TB, srv *Server, useChannel bool) *Conn {
	t.Helper()
	return Loopback(t, srv, srv, useChannel)
}

// httpCall is a request-phase call for path with the headers (name,
// value, ...) and body.
func httpCall(path string, body []byte, headers ...string) *pluginv1.CallRequest {
	return &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: &pluginv1.HTTPRequest{Path: path, Headers: headers, Body: body}}}
}

// headerValue is the first value of the header name in a flat list of
// name/value pairs.
func headerValue(kv []string, name string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		if http.CanonicalHeaderKey(kv[i]) == http.CanonicalHeaderKey(name) {
			return kv[i+1]
		}
	}
	return ""
}
