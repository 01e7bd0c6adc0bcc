// Package resendtest serves HTTP that makes Go's transport re-send a
// request, for the tests of the code that tells such re-sends from the
// mesh's retries.
package resendtest

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"
)

// Server listens on loopback and answers the first request of each
// connection with body (JSON), then closes the connection on reading the
// second without an answer: Go's transport re-sends that idempotent
// request on a new connection, and its caller sees the answer. It returns
// the server's host:port; it stops when the test ends.
func Server(t testing.TB, body string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/json\r\n\r\n%s", len(body), body)
				_, _ = http.ReadRequest(br) // read the second, then close: no answer
			}()
		}
	}()
	return ln.Addr().String()
}
