package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/httpx"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

// sendVia sends a GET to addr through h, in h2c when http2 is set, with
// the given content type.
func sendVia(h *Handler, addr string, http2 bool, contentType string, body io.Reader) (*http.Response, error) {
	method := http.MethodGet
	if body != nil {
		method = http.MethodPost
	}
	r, _ := http.NewRequestWithContext(context.Background(), method, "http://orders/", body)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	ex := chain.NewExchange(r, chain.Outbound, nil)
	ex.HTTP2 = http2
	ex.Endpoint = &table.Endpoint{Address: addr, Stats: &table.Stats{}}
	return h.Send(ex)
}

// An endpoint that answers the h2c preface in HTTP/1 is remembered: a
// plain request goes on over HTTP/1.1 (the first one too, when it can be
// sent again), a gRPC call fails with h2c_refused without a new
// connection, and the refusal is counted once, not per request.
func TestH2CRefusedFallsBackToHTTP1(t *testing.T) {
	var conns atomic.Int64
	app := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Proto+" "+string(b))
	}))
	app.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	app.Start()
	defer app.Close()
	addr := app.Listener.Addr().String()
	m := metrics.New()
	h, err := New(testConfig(), chain.Deps{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer h.CloseIdleConnections()

	tests := []struct {
		name        string
		contentType string
		body        string
		wantBody    string // "" for a failure
		wantReason  string
	}{
		{name: "first GET, sent again over HTTP/1.1", wantBody: "HTTP/1.1 "},
		{name: "POST, known refusal", body: "x", wantBody: "HTTP/1.1 x"},
		{name: "gRPC, known refusal", contentType: "application/grpc", wantReason: chain.ReasonH2CRefused},
		{name: "gRPC-Web works over HTTP/1.1", contentType: "application/grpc-web", wantBody: "HTTP/1.1 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			resp, err := sendVia(h, addr, true, tt.contentType, body)
			if tt.wantReason != "" {
				if !chain.IsReason(err, tt.wantReason) {
					t.Fatalf("err %v; want %s", err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != tt.wantBody {
				t.Errorf("app answered %q; want %q", b, tt.wantBody)
			}
		})
	}
	// One connection refused h2c; the HTTP/1.1 requests shared another.
	if n := conns.Load(); n != 2 {
		t.Errorf("the app saw %d connections; want 2 (the refused one, one kept alive)", n)
	}
	if n := testutil.ToFloat64(m.H2CRefusals); n != 1 {
		t.Errorf("upstream_h2c_refusals_total = %v; want 1", n)
	}
}

// A request whose body went out on the refused connection cannot go again.
func TestH2CRefusedWithBodySentFails(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer app.Close()
	h, err := New(testConfig(), chain.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.CloseIdleConnections()
	_, err = sendVia(h, app.Listener.Addr().String(), true, "", strings.NewReader("not buffered"))
	if !chain.IsReason(err, chain.ReasonH2CRefused) {
		t.Fatalf("err %v; want h2c_refused", err)
	}
	var nh *httpx.NoH2CError
	// The answer is "answered in HTTP/1", or "closed the connection" when
	// the request's write found the connection closed before the answer
	// was read.
	if !errors.As(err, &nh) || !nh.Tried || !strings.Contains(err.Error(), "does not speak HTTP/2 with prior knowledge (h2c): to the HTTP/2 preface it ") {
		t.Errorf("err %v; want a *NoH2CError saying the upstream does not speak HTTP/2", err)
	}
}
