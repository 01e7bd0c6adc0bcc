package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
)

// upperServer is a raw TCP upstream. When answer is set it first reads an
// HTTP request head, sends it on heads, and answers 101 with "Upgrade:
// answer" and "first" in the same write (a server that speaks first).
// Then it sends back every chunk it reads in upper case; when the client
// half-closes, it writes "bye" and closes.
type upperServer struct {
	addr  string
	heads chan *http.Request
}

func startUpper(t *testing.T, answer string) *upperServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	u := &upperServer{addr: ln.Addr().String(), heads: make(chan *http.Request, 4)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go u.serve(c, answer)
		}
	}()
	return u
}

func (u *upperServer) serve(c net.Conn, answer string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	if answer != "" {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		u.heads <- req
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+answer+"\r\nX-Hop: gone\r\nX-App: kept\r\n\r\nfirst")
	}
	buf := make([]byte, 1024)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if _, werr := c.Write(bytes.ToUpper(buf[:n])); werr != nil {
				return
			}
		}
		if err != nil {
			io.WriteString(c, "bye")
			return
		}
	}
}

// startEgress serves an egress that may reach allowed hosts on the
// proxy's own server.
func startEgress(t *testing.T, opts httpx.ServerOptions, allow ...string) (*httpx.Server, string) {
	t.Helper()
	eg := testEgress(t, allow)
	opts.NetHTTP = servetest.NetHTTP() // the differential check (runtime.http)
	srv := httpx.NewServer(eg, opts)
	return srv, servetest.Run(t, srv)
}

// upgradeHead is an absolute-form upgrade request to addr, as an app in
// HTTP proxy mode sends it, with a hop-by-hop field of its own.
func upgradeHead(addr string) string {
	return "GET http://" + addr + "/x HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade, X-Hop\r\nUpgrade: test\r\nX-Hop: 1\r\n\r\n"
}

// An upgrade passes the Upgrade field on, answers 101 with the upstream's
// fields (hop-by-hop ones dropped), and splices: bytes either side had
// already sent behind the heads arrive, both ways, and a half-close
// travels through.
func TestUpgradeSplicesBothWays(t *testing.T) {
	up := startUpper(t, "test")
	_, addr := startEgress(t, httpx.ServerOptions{}, up.addr)
	c := servetest.DialRaw(t, addr)
	c.Send(upgradeHead(up.addr) + "early") // bytes right behind the head

	resp, _ := c.Read(http.MethodGet)
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "test" ||
		resp.Header.Get("Connection") != "Upgrade" || resp.Header.Get("X-App") != "kept" {
		t.Fatalf("answer %d %v; want 101 with Upgrade: test, Connection: Upgrade, X-App", resp.StatusCode, resp.Header)
	}
	req := <-up.heads
	if req.Header.Get("Upgrade") != "test" || req.Header.Get("Connection") != "Upgrade" || req.Header.Get("X-Hop") != "" {
		t.Errorf("upstream got %v; want Upgrade: test, Connection: Upgrade and no X-Hop", req.Header)
	}
	if got := c.ReadN(len("firstEARLY")); got != "firstEARLY" {
		t.Fatalf("tunnel gave %q; want the upstream's first bytes and the client's early ones", got)
	}
	c.Send("more")
	if got := c.ReadN(4); got != "MORE" {
		t.Fatalf("echo %q, want MORE", got)
	}
	c.CloseWrite()
	rest, err := io.ReadAll(c.Br)
	if err != nil || string(rest) != "bye" {
		t.Errorf("after half-close: %q, %v; want bye, then the end", rest, err)
	}
}

// A 101 that switches to another protocol than asked is refused.
func TestUpgradeMismatchRefused(t *testing.T) {
	up := startUpper(t, "other")
	_, addr := startEgress(t, httpx.ServerOptions{}, up.addr)
	c := servetest.DialRaw(t, addr)
	c.Send(upgradeHead(up.addr))
	resp, body := c.Read(http.MethodGet)
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("X-Mesh-Error") != "bad_upgrade" {
		t.Errorf("answer %d %q %q; want 502 bad_upgrade", resp.StatusCode, resp.Header.Get("X-Mesh-Error"), body)
	}
}

// Tunnels, upgraded or CONNECT, count as in flight: Shutdown waits for
// them and gives up at its deadline, then Close cuts them. A tunnel that
// ends during the drain lets Shutdown return at once.
func TestShutdownWaitsForTunnels(t *testing.T) {
	for _, kind := range []string{"upgrade", "connect"} {
		t.Run(kind, func(t *testing.T) {
			answer := "test"
			if kind == "connect" {
				answer = ""
			}
			up := startUpper(t, answer)
			open := func(addr string) *servetest.RawConn {
				c := servetest.DialRaw(t, addr)
				if kind == "connect" {
					c.Send("CONNECT " + up.addr + " HTTP/1.1\r\nHost: " + up.addr + "\r\n\r\n")
					if resp, err := http.ReadResponse(c.Br, &http.Request{Method: http.MethodConnect}); err != nil || resp.StatusCode != 200 {
						t.Fatalf("CONNECT: %v %v", resp, err)
					}
					return c
				}
				c.Send(upgradeHead(up.addr))
				if resp, _ := c.Read(http.MethodGet); resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("upgrade answered %d", resp.StatusCode)
				}
				c.ReadN(len("first"))
				return c
			}

			srv, addr := startEgress(t, httpx.ServerOptions{}, up.addr)
			c := open(addr)
			const window = 300 * time.Millisecond
			start := time.Now()
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), window)
				defer cancel()
				done <- srv.Shutdown(ctx)
			}()
			c.Send("during")
			if got := c.ReadN(6); got != "DURING" {
				t.Fatalf("tunnel during drain gave %q", got)
			}
			if err := <-done; !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < window {
				t.Fatalf("Shutdown returned %v after %v with a tunnel open; want the deadline after %v", err, time.Since(start), window)
			}
			srv.Close()
			if !c.Closed() {
				t.Error("tunnel still open after Close")
			}

			srv2, addr2 := startEgress(t, httpx.ServerOptions{}, up.addr)
			c2 := open(addr2)
			done2 := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				done2 <- srv2.Shutdown(ctx)
			}()
			c2.CloseWrite()
			if rest, _ := io.ReadAll(c2.Br); string(rest) != "bye" {
				t.Errorf("tunnel end: %q", rest)
			}
			if err := <-done2; err != nil {
				t.Errorf("Shutdown after the tunnel ended: %v", err)
			}
		})
	}
}

// With TunnelIdleTimeout a tunnel that carries bytes stays open; once
// quiet for the timeout it is closed.
func TestTunnelIdleTimeout(t *testing.T) {
	up := startUpper(t, "test")
	const idle = 200 * time.Millisecond
	_, addr := startEgress(t, httpx.ServerOptions{TunnelIdleTimeout: idle}, up.addr)
	c := servetest.DialRaw(t, addr)
	c.Send(upgradeHead(up.addr))
	c.Read(http.MethodGet)
	c.ReadN(len("first"))
	for range 6 { // 6 × idle/2: longer than idle, never quiet that long
		time.Sleep(idle / 2)
		c.Send("x")
		if got := c.ReadN(1); got != "X" {
			t.Fatalf("echo %q", got)
		}
	}
	start := time.Now()
	if !c.Closed() {
		t.Fatal("quiet tunnel not closed")
	}
	if took := time.Since(start); took < idle/2 {
		t.Errorf("closed after %v of quiet; want about %v", took, idle)
	}
}
