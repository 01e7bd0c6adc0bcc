package mock

import (
	"io"
	"net/http"
	"testing"
)

// TestUnmatchedHandler: with Options.Unmatched, a request no stub
// matches goes to that handler with its body, its answer is the
// client's, and the journal records it as unmatched; matched requests
// never reach it.
func TestUnmatchedHandler(t *testing.T) {
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("X-Fallback", "yes")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(append([]byte("got "), body...))
	})
	ts := start(t, Options{Unmatched: fallback}, "testdata/wiremock")

	status, body, header := call(t, "POST", ts.URL+"/nowhere", "hello")
	if status != http.StatusAccepted || body != "got hello" || header.Get("X-Fallback") != "yes" {
		t.Fatalf("unmatched: %d %q %v, want the fallback's 202 \"got hello\"", status, body, header)
	}
	if status, body, _ := call(t, "GET", ts.URL+"/api/specific-resource", ""); status != 200 || body == "got " {
		t.Fatalf("a matched request: %d %q", status, body)
	}
	unmatched := decode[struct {
		Requests []struct {
			URL string `json:"url"`
		} `json:"requests"`
	}](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests/unmatched", ""))
	if len(unmatched.Requests) != 1 || unmatched.Requests[0].URL != "/nowhere" {
		t.Fatalf("unmatched journal: %+v, want /nowhere only", unmatched.Requests)
	}
	events := decode[struct {
		Requests []serveEvent `json:"requests"`
	}](t, mustStatus(t, 200, "GET", ts.URL+"/__admin/requests?limit=1&offset=1", ""))
	if len(events.Requests) != 1 || events.Requests[0].WasMatched || events.Requests[0].Response.Status != http.StatusAccepted || events.Requests[0].Response.Body != "got hello" {
		t.Fatalf("journal entry: %+v, want the fallback's answer, unmatched", events.Requests)
	}
}
