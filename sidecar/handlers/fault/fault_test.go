package fault

import (
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/metrics"
)

func TestFault(t *testing.T) {
	ok := func(*chain.Exchange) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}
	r, _ := http.NewRequest("GET", "/", nil)

	abort := New(&Config{AbortPercent: 100, AbortStatus: 429}, chain.Inbound, metrics.New())
	if _, err := abort.Serve(chain.NewExchange(r, chain.Inbound, nil), ok); chain.AsError(err).Status != 429 || !chain.IsReason(err, chain.ReasonFaultAbort) {
		t.Errorf("abort: %v", err)
	}
	delay := New(&Config{DelayPercent: 100, Delay: 30 * time.Millisecond, AbortStatus: 503}, chain.Inbound, metrics.New())
	start := time.Now()
	if resp, err := delay.Serve(chain.NewExchange(r, chain.Inbound, nil), ok); err != nil || resp.StatusCode != 200 {
		t.Errorf("delay: %v", err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Error("no delay injected")
	}
	off := New(DefaultConfig(), chain.Inbound, metrics.New())
	if _, err := off.Serve(chain.NewExchange(r, chain.Inbound, nil), ok); err != nil {
		t.Errorf("default config injected a fault: %v", err)
	}
}
