package serve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A head that announces 100 bytes, then one of them; the rest never comes.
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\na")
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // far past 200ms: it asserts the cut, not its speed
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled body answered %d, want 408", resp.StatusCode)
	}
	var bte *BodyTimeoutError
	if err := <-readErrs; !errors.As(err, &bte) || bte.Timeout != 200*time.Millisecond {
		t.Fatalf("handler read %v, want a *BodyTimeoutError of 200ms", err)
	}
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("connection still open after the 408: %v", err)
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
