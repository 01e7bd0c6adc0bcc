package proxy

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/meshbridge/meshbridge/sidecar/chain"
)

// A gRPC caller gets the sidecar's errors as a trailers-only gRPC status,
// mapped from the HTTP status as gRPC's own table does.
func TestWriteErrorToGRPCCaller(t *testing.T) {
	tests := []struct {
		status   int
		reason   string
		err      string
		wantCode string
		wantMsg  string
	}{
		{http.StatusBadGateway, chain.ReasonH2CRefused, "upstream app:8080 does not speak HTTP/2 (h2c)",
			"14", "h2c_refused: upstream app:8080 does not speak HTTP/2 (h2c)"},
		{http.StatusServiceUnavailable, chain.ReasonNoHealthy, "", "14", "no_healthy_upstream"},
		{http.StatusGatewayTimeout, chain.ReasonTimeout, "", "14", "timeout"},
		{http.StatusTooManyRequests, chain.ReasonRateLimited, "", "14", "rate_limited"},
		{http.StatusForbidden, "denied", "50% of callers\n", "7", "denied: 50%25 of callers%0A"},
		{http.StatusRequestEntityTooLarge, "body_too_large", "", "2", "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			ce := &chain.Error{Status: tt.status, Reason: tt.reason}
			if tt.err != "" {
				ce.Err = errors.New(tt.err)
			}
			rec := httptest.NewRecorder()
			writeError(rec, ce, true)
			h := rec.Result().Header
			if rec.Code != http.StatusOK || h.Get("Content-Type") != "application/grpc" || rec.Body.Len() != 0 {
				t.Errorf("answer %d %q with %d body bytes; want a trailers-only 200 application/grpc", rec.Code, h.Get("Content-Type"), rec.Body.Len())
			}
			if h.Get("Grpc-Status") != tt.wantCode || h.Get("Grpc-Message") != tt.wantMsg || h.Get("X-Mesh-Error") != tt.reason {
				t.Errorf("grpc-status %q grpc-message %q x-mesh-error %q; want %q %q %q",
					h.Get("Grpc-Status"), h.Get("Grpc-Message"), h.Get("X-Mesh-Error"), tt.wantCode, tt.wantMsg, tt.reason)
			}
		})
	}
}
