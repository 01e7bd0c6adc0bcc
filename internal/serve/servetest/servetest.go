package servetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// StallBody sends a request head that announces a 100,000-byte body and
// one byte of it, then waits for the server's answer. It returns the
// answer's status and whether the server closed the connection after it.
// It waits up to 20 s, far past the body timeouts tests configure, so it
// checks that the server cuts the request, not how fast.
func StallBody(tb testing.TB, addr, method, path, contentType string) (status int, closed bool) {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n{",
		method, path, addr, contentType); err != nil {
		tb.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("no answer to a stalled body: %v", err)
	}
	io.Copy(io.Discard, resp.Body) // the status is what counts; the text varies by API
	resp.Body.Close()
	_, err = conn.Read(make([]byte, 1))
	return resp.StatusCode, errors.Is(err, io.EOF)
}
