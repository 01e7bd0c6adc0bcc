package proxy

import (
	"net/http"
	"strconv"
)

// gRPC status codes the sidecar answers with.
const (
	grpcUnknown          = 2
	grpcInternal         = 13
	grpcUnauthenticated  = 16
	grpcPermissionDenied = 7
	grpcUnimplemented    = 12
	grpcUnavailable      = 14
)

// grpcCode is the gRPC status for an HTTP status, as gRPC's own table
// maps them (doc/http-grpc-status-mapping.md in grpc/grpc): what a gRPC
// client would have made of the bare HTTP answer, without the guessing.
func grpcCode(status int) int {
	switch status {
	case http.StatusBadRequest:
		return grpcInternal
	case http.StatusUnauthorized:
		return grpcUnauthenticated
	case http.StatusForbidden:
		return grpcPermissionDenied
	case http.StatusNotFound:
		return grpcUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, 499:
		return grpcUnavailable
	}
	return grpcUnknown
}

// writeGRPCError answers a gRPC call the sidecar could not forward with a
// trailers-only response: status 200 and the gRPC status in the header
// block that ends the stream, which is how a gRPC server reports an error
// before any message. msg becomes grpc-message.
func writeGRPCError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(grpcCode(status)))
	h.Set("Grpc-Message", grpcPercentEncode(msg))
	w.WriteHeader(http.StatusOK)
}

// grpcPercentEncode encodes a grpc-message value: bytes outside printable
// ASCII, and '%', become %XX (the gRPC over HTTP/2 spec).
func grpcPercentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '%' {
			if out != nil {
				out = append(out, c)
			}
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(s)+8), s[:i]...)
		}
		out = append(out, '%', hex[c>>4], hex[c&0xf])
	}
	if out == nil {
		return s
	}
	return string(out)
}
