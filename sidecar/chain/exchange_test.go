package chain

import (
	"net/http"
	"testing"
)

// Handlers edit a copy of the headers, never the listener's map, and the
// copy is made once per exchange.
func TestEditHeaderCopiesOnce(t *testing.T) {
	r, _ := http.NewRequest("GET", "http://orders/", nil)
	r.Header.Set("X-Env", "dev")
	ex := NewExchangeCopy(r, Outbound, nil)
	ex.EditHeader().Set("X-Env", "prod")
	ex.EditHeader().Set("X-Team", "payments")
	if r.Header.Get("X-Env") != "dev" || r.Header.Get("X-Team") != "" {
		t.Errorf("the listener's request changed: %v", r.Header)
	}
	if got := ex.Request.Header; got.Get("X-Env") != "prod" || got.Get("X-Team") != "payments" {
		t.Errorf("the exchange's request lost an edit: %v", got)
	}
}
