package httpx

import (
	"net/http"
	"testing"
)

func TestIsGRPC(t *testing.T) {
	tests := []struct {
		contentType string
		want        bool
	}{
		{"application/grpc", true},
		{"application/grpc+proto", true},
		{"application/grpc;charset=utf-8", true},
		{"application/grpc-web", false},
		{"application/grpc-web+proto", false},
		{"application/grpcx", false},
		{"application/json", false},
		{"", false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.contentType != "" {
			h.Set("Content-Type", tt.contentType)
		}
		if got := IsGRPC(h); got != tt.want {
			t.Errorf("IsGRPC(%q) = %v, want %v", tt.contentType, got, tt.want)
		}
	}
}
