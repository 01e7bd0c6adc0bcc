package plugin

import (
	"net/http"
	"testing"

	"github.com/meshbridge/meshbridge/sidecar/chain"
)

func TestEmptySlotPassesThrough(t *testing.T) {
	k, _ := chain.Lookup(Name)
	h, err := k.New(DefaultConfig(), chain.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	r, _ := http.NewRequest("GET", "/", nil)
	_, _ = h.Serve(chain.NewExchange(r, chain.Inbound, nil), func(*chain.Exchange) (*http.Response, error) {
		called = true
		return nil, nil
	})
	if !called {
		t.Error("next not called")
	}
	if err := (&Config{Plugins: []string{"auth"}}).Validate(); err == nil {
		t.Error("plugins accepted without a plugin host")
	}
	if err := (&Config{Plugins: []string{"a", "a"}}).Validate(); err == nil {
		t.Error("duplicate plugin accepted")
	}
}
