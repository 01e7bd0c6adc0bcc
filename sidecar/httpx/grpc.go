package httpx

import (
	"net/http"
	"strings"
)

// IsGRPC reports whether h is the header of a gRPC request: its
// Content-Type is application/grpc, alone or with a "+codec" or
// parameters. gRPC-Web (application/grpc-web) is not: it works over
// HTTP/1.1 and carries its status in the body.
func IsGRPC(h http.Header) bool {
	ct := h.Get("Content-Type")
	rest, ok := strings.CutPrefix(ct, "application/grpc")
	return ok && (rest == "" || rest[0] == '+' || rest[0] == ';')
}
