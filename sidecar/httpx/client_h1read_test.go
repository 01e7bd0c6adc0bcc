package httpx

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// responseSeeds are heads the fast path takes and heads it leaves to
// net/http; both must read as net/http reads them.
var responseSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nx-custom: a\r\nX-Custom: b\r\n\r\nabcEXTRA",
	"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\nEtag: \"x\"\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nz",
	"HTTP/1.1  201 Created \r\nContent-Length:  2 \r\n\r\nxy",
	"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n",
	"HTTP/1.1 200 OK\r\n\r\nuntil the end",
	"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
	"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nzz",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nz",
	"HTTP/1.1 200 OK\r\nBad Key: v\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\n: empty\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Ctl: a\x01b\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Obs: caf\xe9\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 -12 OK\r\n\r\n",
	"HTTP/1.1 +12 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"garbage\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Len",
	"",
}

// FuzzReadResponse checks the fast path against net/http: the same
// response (status, header, framing, body) or an error from both.
func FuzzReadResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		req := &http.Request{Method: method}
		want, wantBody, wantErr := readAll(t, raw, req, http.ReadResponse)
		got, gotBody, gotErr := readAll(t, raw, req, readResponse)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: net/http error %v, ours %v", raw, wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		if got.Status != want.Status || got.StatusCode != want.StatusCode || got.Proto != want.Proto ||
			got.ContentLength != want.ContentLength || got.Close != want.Close ||
			!reflect.DeepEqual(got.Header, want.Header) || !reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) {
			t.Fatalf("%q:\nnet/http %+v\nours     %+v", raw, want, got)
		}
		if !bytes.Equal(gotBody.data, wantBody.data) || (gotBody.err == nil) != (wantBody.err == nil) {
			t.Fatalf("%q: body net/http %q (%v), ours %q (%v)", raw, wantBody.data, wantBody.err, gotBody.data, gotBody.err)
		}
		if !reflect.DeepEqual(got.Trailer, want.Trailer) {
			t.Fatalf("%q: trailer net/http %v, ours %v", raw, want.Trailer, got.Trailer)
		}
	})
}

type bodyResult struct {
	data []byte
	err  error
}

func readAll(t *testing.T, raw []byte, req *http.Request, read func(*bufio.Reader, *http.Request) (*http.Response, error)) (*http.Response, bodyResult, error) {
	t.Helper()
	br := bufio.NewReaderSize(bytes.NewReader(raw), 64)
	resp, err := read(br, req)
	if err != nil {
		return nil, bodyResult{}, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = nil
	return resp, bodyResult{data, err}, nil
}

// The fast path takes the common head and leaves the rest of the stream
// (the next response) where it was.
func TestReadResponseFastPath(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhelloHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(raw))
	resp, err := readResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.Body.(*FixedBody); !ok {
		t.Fatalf("body %T: the fast path was not taken", resp.Body)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "hello" || resp.Header.Get("Content-Type") != "text/plain" || !resp.Close || resp.Header.Get("Connection") != "" {
		t.Errorf("body %q header %v close %v", b, resp.Header, resp.Close)
	}
	next, err := readResponse(br, &http.Request{Method: "GET"})
	if err != nil || next.StatusCode != 404 || next.Body != http.NoBody {
		t.Errorf("next response: %v, %v", next, err)
	}
}

// A head that never ends in the buffer, or uses bare LFs, still reads
// (through net/http) instead of waiting for bytes that do not come.
func TestReadResponseFallbacks(t *testing.T) {
	tests := map[string]string{
		"bare LF":       "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"head > buffer": "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 200) + "\r\nContent-Length: 2\r\n\r\nok",
		"chunked":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	}
	for name, raw := range tests {
		br := bufio.NewReaderSize(strings.NewReader(raw), 64)
		resp, err := readResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != "ok" {
			t.Errorf("%s: body %q", name, b)
		}
	}
}
