package httpx

import (
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Upgrade returns the protocol an HTTP/1.1 head asks to switch to, or
// has switched to in a 101 answer: the Upgrade field when Connection
// lists "upgrade" (RFC 9110 7.8), "" otherwise. Several values are joined
// as one list, so that a request and its answer compare as strings.
func Upgrade(h http.Header) string {
	up := h["Upgrade"]
	if len(up) == 0 || !httpguts.HeaderValuesContainsToken(h["Connection"], "upgrade") {
		return ""
	}
	if len(up) == 1 {
		return strings.TrimSpace(up[0])
	}
	return strings.TrimSpace(strings.Join(up, ", "))
}
