package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/serve/servetest"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

func TestSendAndClassify(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-r.Context().Done()
			return
		}
		if r.URL.Path == "/reset" {
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return
		}
		io.WriteString(w, r.Host)
	}))
	defer srv.Close()
	closed := loopback.Addr(t) // free, and below the ephemeral range: nothing will be listening

	h, err := New(testConfig(), chain.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.CloseIdleConnections()
	send := func(ctx context.Context, addr, path string) (*http.Response, error) {
		r, _ := http.NewRequestWithContext(ctx, "GET", "http://orders"+path, nil)
		ex := chain.NewExchange(r, chain.Outbound, nil)
		ex.Endpoint = &table.Endpoint{Address: addr, Stats: &table.Stats{}}
		return h.Send(ex)
	}
	resp, err := send(context.Background(), srv.Listener.Addr().String(), "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "orders" {
		t.Errorf("upstream saw Host %q, want the caller's Host kept", body)
	}
	if _, err := send(context.Background(), closed, "/"); !chain.IsReason(err, chain.ReasonConnect) {
		t.Errorf("refused: %v, want connect_failure", err)
	}
	if _, err := send(context.Background(), srv.Listener.Addr().String(), "/reset"); !chain.IsReason(err, chain.ReasonReset) {
		t.Errorf("reset: %v, want reset", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := send(ctx, srv.Listener.Addr().String(), "/slow"); !chain.IsReason(err, chain.ReasonTimeout) {
		t.Errorf("slow: %v, want timeout", err)
	}
}

// testConfig is the default config, over net/http's Transport under the
// differential check (runtime.http).
func testConfig() *Config {
	c := DefaultConfig()
	c.NetHTTP = servetest.NetHTTP()
	return c
}

func TestUnknownUpstreamKind(t *testing.T) {
	c := DefaultConfig()
	c.Kind = "mtls"
	if err := c.Validate(); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
