package httpx

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

// countingWriter counts the writes that reach the connection.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func parse(t *testing.T, raw []byte) (*http.Request, string) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("what was written does not parse: %v\n%s", err, raw)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("body: %v\n%s", err, raw)
	}
	return r, string(b)
}

func TestWriteRequest(t *testing.T) {
	kb := strings.Repeat("y", 1024)
	tests := []struct {
		name   string
		req    func() *http.Request
		writes int // writes reaching the connection
		check  func(t *testing.T, r *http.Request, body string, raw string)
	}{
		{"known length goes out in one write", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://10.0.0.1:80/a/b?x=1&y", io.NopCloser(strings.NewReader(kb)))
			r.ContentLength = 1024
			r.Host = "orders"
			r.Header.Set("X-Canary", "true")
			return r
		}, 1, func(t *testing.T, r *http.Request, body, raw string) {
			if r.Host != "orders" || r.URL.String() != "/a/b?x=1&y" || r.ContentLength != 1024 || body != kb {
				t.Errorf("host %q target %q length %d body %d bytes", r.Host, r.URL, r.ContentLength, len(body))
			}
			if r.Header.Get("X-Canary") != "true" {
				t.Errorf("headers %v", r.Header)
			}
			if _, ok := r.Header["User-Agent"]; ok {
				t.Error("a User-Agent was added")
			}
		}},
		{"empty POST says Content-Length: 0", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://h/", nil)
			return r
		}, 1, func(t *testing.T, r *http.Request, body, raw string) {
			if !strings.Contains(raw, "Content-Length: 0\r\n") {
				t.Errorf("no Content-Length: 0 in\n%s", raw)
			}
		}},
		{"GET has no framing headers", func() *http.Request {
			r, _ := http.NewRequest("GET", "http://h/", nil)
			r.Header.Set("Content-Length", "7") // stale copy in the map must not be sent
			return r
		}, 1, func(t *testing.T, r *http.Request, body, raw string) {
			if strings.Contains(raw, "Content-Length") || strings.Contains(raw, "Transfer-Encoding") {
				t.Errorf("framing headers on a GET:\n%s", raw)
			}
		}},
		{"unknown length is chunked with trailers", func() *http.Request {
			r, _ := http.NewRequest("POST", "http://h/up", io.NopCloser(iotest.OneByteReader(strings.NewReader("abc"))))
			r.ContentLength = -1
			r.Trailer = http.Header{"X-Sum": {"6"}}
			return r
		}, 5, func(t *testing.T, r *http.Request, body, raw string) {
			if body != "abc" || r.Trailer.Get("X-Sum") != "6" || len(r.TransferEncoding) == 0 {
				t.Errorf("body %q trailer %v te %v", body, r.Trailer, r.TransferEncoding)
			}
		}},
		{"line breaks in values cannot start a header", func() *http.Request {
			r, _ := http.NewRequest("GET", "http://h/", nil)
			r.Header["X-Evil"] = []string{"a\r\nX-Injected: 1"}
			r.Header["Bad Name"] = []string{"v"}
			return r
		}, 1, func(t *testing.T, r *http.Request, body, raw string) {
			if r.Header.Get("X-Injected") != "" || r.Header.Get("X-Evil") != "a  X-Injected: 1" || strings.Contains(raw, "Bad Name") {
				t.Errorf("headers %v\n%s", r.Header, raw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cw countingWriter
			if err := writeRequest(bufio.NewWriterSize(&cw, 16<<10), tt.req()); err != nil {
				t.Fatal(err)
			}
			if cw.writes != tt.writes {
				t.Errorf("%d writes, want %d", cw.writes, tt.writes)
			}
			raw := cw.String()
			r, body := parse(t, []byte(raw))
			tt.check(t, r, body, raw)
		})
	}
}

func TestWriteRequestErrors(t *testing.T) {
	short, _ := http.NewRequest("POST", "http://h/", io.NopCloser(strings.NewReader("abc")))
	short.ContentLength = 10
	badHost, _ := http.NewRequest("GET", "http://h/", nil)
	badHost.Host = "a b"
	for name, r := range map[string]*http.Request{"short body": short, "invalid host": badHost} {
		if err := writeRequest(bufio.NewWriter(io.Discard), r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
