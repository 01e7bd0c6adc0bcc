package retry

import (
	"errors"
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
)

// An upgrade is tried again only when it could not connect; a reset or a
// retriable status, which a plain GET would retry, ends it.
func TestUpgradeRetriedOnConnectFailureOnly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RetryOn = []string{"connect-failure", "reset", "5xx"}
	cfg.Backoff = 1
	h, err := New(cfg, metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	fails := map[string]func() (*http.Response, error){
		"connect": func() (*http.Response, error) {
			return nil, &chain.Error{Status: 503, Reason: chain.ReasonConnect, Err: errors.New("refused")}
		},
		"reset": func() (*http.Response, error) {
			return nil, &chain.Error{Status: 502, Reason: chain.ReasonReset, Err: errors.New("reset")}
		},
		"503": func() (*http.Response, error) { return &http.Response{StatusCode: 503, Body: http.NoBody}, nil },
	}
	for name, fail := range fails {
		for _, upgrade := range []string{"", "websocket"} {
			r, _ := http.NewRequest(http.MethodGet, "http://orders/ws", nil)
			ex := chain.NewExchange(r, chain.Outbound, nil)
			ex.Upgrade = upgrade
			tries := 0
			_, _ = h.Serve(ex, func(*chain.Exchange) (*http.Response, error) {
				tries++
				return fail()
			})
			want := 3 // the first try and two retries
			if upgrade != "" && name != "connect" {
				want = 1
			}
			if tries != want {
				t.Errorf("%s, upgrade %q: %d tries, want %d", name, upgrade, tries, want)
			}
		}
	}
}
