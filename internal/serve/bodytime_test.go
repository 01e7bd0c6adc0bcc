package serve

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/serve/servetest"
)

// bodyOrTimeout reads the whole body and answers its length, 408 when it
// did not arrive in time (as the front-ends do), then waits for wait unless
// the request's context ends first.
func bodyOrTimeout(readErrs chan<- error, wait time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if readErrs != nil {
			readErrs <- err
		}
		var bte *BodyTimeoutError
		if errors.As(err, &bte) {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		select {
		case <-r.Context().Done():
			io.WriteString(w, "cancelled")
		case <-time.After(wait):
			fmt.Fprintf(w, "read %d bytes, waited", len(b))
		}
	})
}

// A client that trickles its body is answered 408 and cut once ReadBody
// has passed; the handler saw a *BodyTimeoutError.
func TestSlowBodyIsCut(t *testing.T) {
	readErrs := make(chan error, 1)
	addr := startGroup(t, bodyOrTimeout(readErrs, 0), Timeouts{ReadBody: 200 * time.Millisecond}, Limits{})
	if status, closed := servetest.StallBody(t, addr, http.MethodPost, "/", "application/json"); status != http.StatusRequestTimeout || !closed {
		t.Fatalf("stalled body answered %d (connection closed: %v), want 408 and closed", status, closed)
	}
	var bte *BodyTimeoutError
	if err := <-readErrs; !errors.As(err, &bte) || bte.Timeout != 200*time.Millisecond {
		t.Fatalf("handler read %v, want a *BodyTimeoutError of 200ms", err)
	}
}

// Bodies that arrive in time, and whatever handlers do after them or
// without one (long-polls, blocking queries), are not bounded by ReadBody.
func TestBodyTimeLeavesTheRestAlone(t *testing.T) {
	const readBody = 100 * time.Millisecond
	wait := 5 * readBody
	addr := startGroup(t, bodyOrTimeout(nil, wait), Timeouts{ReadBody: readBody}, Limits{})
	cases := []struct {
		name   string
		method string
		body   io.Reader
		want   string
	}{
		{"long-poll after a body", http.MethodPost, strings.NewReader("Listening-Configs=a%02b%02c%01"), "read 30 bytes, waited"},
		{"long-poll after a chunked body", http.MethodPost, io.MultiReader(strings.NewReader("abc")), "read 3 bytes, waited"},
		{"blocking query without a body", http.MethodGet, nil, "read 0 bytes, waited"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, "http://"+addr+"/", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK || string(got) != tc.want {
				t.Fatalf("got %d %q (%v), want 200 %q", resp.StatusCode, got, err, tc.want)
			}
		})
	}
}
