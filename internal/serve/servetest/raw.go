package servetest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// ServeRaw runs a TCP server on loopback that hands each connection to
// handle (within 10 s, then closed) until the test ends; it returns the
// address.
func ServeRaw(tb testing.TB, handle func(net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// RawConn is a client that writes bytes and reads responses as they
// come, for what an HTTP client library would not send or would hide.
type RawConn struct {
	tb testing.TB
	C  net.Conn
	Br *bufio.Reader
}

// DialRaw connects to addr; the connection is closed when the test ends,
// and its reads and writes fail after 10 s.
func DialRaw(tb testing.TB, addr string) *RawConn {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &RawConn{tb: tb, C: c, Br: bufio.NewReader(c)}
}

// Send writes s.
func (r *RawConn) Send(s string) {
	r.tb.Helper()
	if _, err := io.WriteString(r.C, s); err != nil {
		r.tb.Fatal(err)
	}
}

// Read reads one response to a request with method and returns it with
// its body.
func (r *RawConn) Read(method string) (*http.Response, string) {
	r.tb.Helper()
	resp, err := http.ReadResponse(r.Br, &http.Request{Method: method})
	if err != nil {
		r.tb.Fatalf("reading the response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.tb.Fatalf("reading the body: %v", err)
	}
	return resp, string(b)
}

// ReadN reads n bytes (of a tunnel, say).
func (r *RawConn) ReadN(n int) string {
	r.tb.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r.Br, b); err != nil {
		r.tb.Fatalf("reading %d tunnel bytes: %v", n, err)
	}
	return string(b)
}

// CloseWrite half-closes the connection.
func (r *RawConn) CloseWrite() {
	r.tb.Helper()
	if err := r.C.(*net.TCPConn).CloseWrite(); err != nil {
		r.tb.Fatal(err)
	}
}

// ClosedWithin reports whether the server closes the connection within d
// (it stays open when nothing comes, not even the end, in that time).
func (r *RawConn) ClosedWithin(d time.Duration) bool {
	_ = r.C.SetReadDeadline(time.Now().Add(d))
	_, err := r.Br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// Closed reports whether the server closes the connection soon.
func (r *RawConn) Closed() bool { return r.ClosedWithin(5 * time.Second) }

// Server is what Run serves: net/http's server, or one of its shape.
type Server interface {
	Serve(ln net.Listener) error
	Close() error
}

// Run serves srv on a loopback listener until the test ends, then closes
// it and checks that Serve returned http.ErrServerClosed; it returns the
// listener's address.
func Run(tb testing.TB, srv Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		srv.Close()
		select {
		case err := <-done:
			if !errors.Is(err, http.ErrServerClosed) {
				tb.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(5 * time.Second):
			tb.Error("Serve did not return after Close")
		}
	})
	return ln.Addr().String()
}

// NetHTTPEnv names the environment variable that, set to "nethttp", has
// the sidecar's tests run its listeners and upstream connections over
// net/http's server and Transport (sidecar config runtime.http) instead
// of its own HTTP/1.1 code: the differential check make test runs.
const NetHTTPEnv = "MESHBRIDGE_TEST_HTTP"

// NetHTTP reports whether NetHTTPEnv asks for net/http.
func NetHTTP() bool { return os.Getenv(NetHTTPEnv) == "nethttp" }
