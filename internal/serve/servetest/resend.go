package servetest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
)

// ResendServer answers the first HTTP request of each connection with
// body (JSON) and closes the connection on reading the second, without an
// answer: Go's transport then re-sends that idempotent request on a new
// connection and its caller sees the answer. For the tests of what tells
// such re-sends from the mesh's retries. It returns the address.
func ResendServer(tb testing.TB, body string) string {
	tb.Helper()
	return ServeRaw(tb, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/json\r\n\r\n%s", len(body), body)
		_, _ = http.ReadRequest(br) // read the second, then close: no answer
	})
}
