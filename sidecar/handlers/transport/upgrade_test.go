package transport

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// startSwitcher answers every request with 101 and "hi" in the same
// write, then echoes.
func startSwitcher(t *testing.T) string {
	return servetest.ServeRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nhi")
		_, _ = io.Copy(c, br) // echo until the client closes
	})
}

// A 101 answer hands the connection over: the server's bytes behind the
// head come first, the handshake's deadline stops applying, and the
// endpoint counts it in flight until it is closed. A 101 to a request
// that asked for no upgrade is refused.
func TestUpgradeHandsConnectionOver(t *testing.T) {
	addr := startSwitcher(t)
	h, err := New(testConfig(), chain.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.CloseIdleConnections()
	stats := &table.Stats{}
	send := func(upgrade string) (*http.Response, error) {
		r, _ := http.NewRequest(http.MethodGet, "http://orders/ws", nil)
		if upgrade != "" {
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", upgrade)
		}
		ex := chain.NewExchange(r, chain.Outbound, nil)
		ex.Upgrade = upgrade
		ex.Endpoint = &table.Endpoint{Address: addr, Stats: stats}
		const handshake = 200 * time.Millisecond
		return chain.WithTimeout(ex, handshake, h.Send)
	}

	resp, err := send("test")
	if err != nil {
		t.Fatal(err)
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
		t.Fatalf("answer %d, body %T; want 101 with the connection", resp.StatusCode, resp.Body)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(rwc, buf[:2]); err != nil || string(buf[:2]) != "hi" {
		t.Fatalf("first bytes %q, %v; want hi", buf[:2], err)
	}
	if n := stats.Active.Load(); n != 1 {
		t.Errorf("endpoint has %d in flight with the tunnel open, want 1", n)
	}
	time.Sleep(300 * time.Millisecond) // past the handshake's deadline
	if _, err := io.WriteString(rwc, "ping"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(rwc, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v after the handshake deadline; want ping", buf, err)
	}
	rwc.Close()
	if n := stats.Active.Load(); n != 0 {
		t.Errorf("endpoint has %d in flight after the tunnel closed, want 0", n)
	}

	if _, err := send(""); !chain.IsReason(err, chain.ReasonBadUpgrade) {
		t.Errorf("101 to a plain request: %v; want bad_upgrade", err)
	}
	if n := stats.Active.Load(); n != 0 {
		t.Errorf("endpoint has %d in flight after a refused 101, want 0", n)
	}
}
