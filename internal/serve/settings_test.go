package serve

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
)

// startGroup serves h on a loopback port with t and l until the test ends.
func startGroup(tb testing.TB, h http.Handler, t Timeouts, l Limits) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	g := app.NewGroup()
	if err := Join(g, Listener{Name: "api", Listener: ln, Handler: h}, quiet, t, l); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.Until(ctx)
	served := make(chan error, 1)
	go func() { served <- g.Run() }()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-served:
		case <-time.After(30 * time.Second):
			tb.Error("group did not stop")
		}
	})
	return ln.Addr().String()
}

// A header block over the limit is refused with 431 before any handler
// runs; one within it is served.
func TestHeaderLimit(t *testing.T) {
	cases := []struct {
		name   string
		limits Limits
		header int
		want   int
	}{
		{"1 MiB against the default", Limits{}, 1 << 20, http.StatusRequestHeaderFieldsTooLarge},
		{"32 KiB against the default", Limits{}, 32 << 10, http.StatusOK},
		{"32 KiB against 16 KiB", Limits{HeaderBytes: 16 << 10}, 32 << 10, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ran atomic.Bool
			addr := startGroup(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran.Store(true) }), Timeouts{}, tc.limits)
			req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Padding", strings.Repeat("a", tc.header))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("a %d-byte header answered %d, want %d", tc.header, resp.StatusCode, tc.want)
			}
			if ran.Load() != (tc.want == http.StatusOK) {
				t.Fatalf("handler ran: %v", ran.Load())
			}
		})
	}
}
