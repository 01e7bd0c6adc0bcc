package sidecar_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/sidecar/config"
)

// bodyLimitSidecar runs an app behind a sidecar whose body read timeout
// is limit; the app answers with the body it read.
func bodyLimitSidecar(t *testing.T, limit time.Duration) *harness {
	t.Helper()
	app := startEcho(t, "orders-1")
	app.setHandle(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	h := startSidecar(t, testConfig(t, func(c *config.Config) {
		c.Service.Name = "orders"
		_, port, _ := splitHostPort(app.addr)
		c.Service.Ports = []config.Port{{Name: "rest", Port: port, Protocol: "http"}}
		c.Limits.ReadBodyTimeout = limit
	}), nil)
	h.set([]*registry.Instance{app.instance("orders", nil)})
	return h
}

// A caller that declares a body and sends it too slowly (slowloris) is
// answered 408 once limits.readBodyTimeout has passed, and its HTTP/1.1
// connection closed; before, the sidecar waited as long as the caller
// kept sending (100 of 100 such connections were still held after 70 s).
// The egress (through the outbound chain's retry buffering) and the
// ingress both cut it, on HTTP/1.1 and HTTP/2.
func TestSlowBodiesAreCut(t *testing.T) {
	const limit = 500 * time.Millisecond
	h := bodyLimitSidecar(t, limit)
	for _, listener := range []struct{ name, addr, host, path string }{
		{"ingress", h.ingress, "x", "/api/v1/instances"},
		{"egress", h.egress, "orders", "http://orders/api/v1/instances"}, // proxy mode
	} {
		t.Run(listener.name+" HTTP/1.1", func(t *testing.T) {
			status, closed := servetest.StallBody(t, listener.addr, http.MethodPost, listener.path, "application/json")
			if status != http.StatusRequestTimeout || !closed {
				t.Errorf("answer %d, connection closed %v; want 408 and closed", status, closed)
			}
		})
		t.Run(listener.name+" HTTP/2", func(t *testing.T) {
			// The app speaks HTTP/1.1 only: a first request teaches the
			// sidecar so (a body sent on the refused connection could not
			// go again).
			client := h2cClient(t)
			if resp, err := client.Get("http://" + listener.addr + "/"); err == nil {
				resp.Body.Close()
			}
			pr, pw := io.Pipe()
			defer pw.Close()
			req, _ := http.NewRequest(http.MethodPost, "http://"+listener.addr+"/api/v1/instances", pr)
			req.Host = listener.host
			req.ContentLength = 100000
			go func() { _, _ = pw.Write([]byte("{")) }() // and nothing more
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || resp.Header.Get("X-Mesh-Error") != "body_timeout" {
				t.Fatalf("answer %d %q; want 408 body_timeout", resp.StatusCode, resp.Header.Get("X-Mesh-Error"))
			}
		})
	}
	t.Run("admin", func(t *testing.T) {
		// The answer (405: /healthz is GET only) does not read the body;
		// net/http then reads the rest away to keep the connection, which
		// the limit cuts short.
		status, closed := servetest.StallBody(t, h.admin, http.MethodPost, "/healthz", "application/json")
		if status != http.StatusMethodNotAllowed || !closed {
			t.Errorf("answer %d, connection closed %v; want 405 and closed", status, closed)
		}
	})
	t.Run("a body that arrives in time", func(t *testing.T) {
		body := bytes.Repeat([]byte("x"), 100000)
		resp, err := http.Post("http://"+h.ingress+"/api/v1/instances", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) != len(body) {
			t.Errorf("answer %d with %d bytes; want 200 with the body back", resp.StatusCode, len(b))
		}
	})
}

// Streams are not cut by the body read timeout: a request body of
// unknown length (HTTP/1.1 chunked; an HTTP/2 stream such as a gRPC
// client stream) may pause longer than it, and so may an upgraded
// connection.
func TestStreamsOutliveReadBodyTimeout(t *testing.T) {
	const limit = 300 * time.Millisecond
	t.Run("HTTP/1.1 chunked", func(t *testing.T) {
		h := bodyLimitSidecar(t, limit)
		c, err := net.Dial("tcp", h.ingress)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, "POST /stream HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
		time.Sleep(3 * limit) // the stream pauses longer than the limit
		_, _ = io.WriteString(c, "1\r\nb\r\n0\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "ab" {
			t.Errorf("answer %d %q; want 200 \"ab\"", resp.StatusCode, b)
		}
	})
	t.Run("HTTP/2 stream", func(t *testing.T) {
		h := h2cStreamApp(t, limit)
		pr, pw := io.Pipe()
		defer pw.Close()
		req, _ := http.NewRequest(http.MethodPost, "http://"+h.ingress+"/orders.Orders/Chat", pr)
		req.Header.Set("Content-Type", "application/grpc")
		go func() { _, _ = pw.Write([]byte("a")) }()
		resp, err := h2cClient(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 1)
		if _, err := io.ReadFull(resp.Body, buf); err != nil || buf[0] != 'a' {
			t.Fatalf("first echo %q, %v", buf, err)
		}
		time.Sleep(3 * limit) // the stream pauses longer than the limit
		go func() { _, _ = pw.Write([]byte("b")) }()
		if _, err := io.ReadFull(resp.Body, buf); err != nil || buf[0] != 'b' {
			t.Fatalf("echo after the pause %q, %v; want the stream still open", buf, err)
		}
	})
	t.Run("WebSocket", func(t *testing.T) {
		h := startSidecar(t, testConfig(t, func(c *config.Config) { c.Limits.ReadBodyTimeout = limit }), nil)
		h.set([]*registry.Instance{startWSApp(t, "orders-1").instance("orders", nil)})
		c, _, err := dialWS(t, h.egress, "orders", "/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		greeting(t, c)
		time.Sleep(3 * limit) // the tunnel outlives the body read timeout
		echoes(t, c)
	})
}

// h2cStreamApp runs an app that speaks h2c and echoes every chunk of a
// request body as it arrives, behind a sidecar whose body read timeout
// is limit.
func h2cStreamApp(t *testing.T, limit time.Duration) *harness {
	t.Helper()
	ln := listen(t)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: p, ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		buf := make([]byte, 1024)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				_, _ = w.Write(buf[:n])
				_ = rc.Flush()
			}
			if err != nil {
				return
			}
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return startSidecar(t, testConfig(t, func(c *config.Config) {
		c.Service.Name = "orders"
		_, port, _ := splitHostPort(ln.Addr().String())
		c.Service.Ports = []config.Port{{Name: "grpc", Port: port, Protocol: "grpc"}}
		c.Limits.ReadBodyTimeout = limit
	}), nil)
}
