package httpx

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// requestSeeds are heads the fast path takes and heads it leaves to
// net/http; both must read as net/http reads them.
var requestSeeds = []string{
	"GET / HTTP/1.1\r\nHost: orders\r\n\r\n",
	"POST /a/b?x=1&y HTTP/1.1\r\nHost: orders\r\ncontent-length: 3\r\nX-Canary: true\r\nx-canary: again\r\n\r\nabcGET / HTTP/1.1\r\n\r\n",
	"GET http://orders:8080/p?q HTTP/1.1\r\nHost: ignored\r\nConnection: keep-alive, close\r\n\r\n",
	"GET /%2F%zz HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nPragma: no-cache\r\nHost: h\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nshort",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nz",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n1\r\nz\r\n0\r\n\r\n",
	"CONNECT orders:443 HTTP/1.1\r\nHost: orders:443\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.1\nHost: h\n\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-Folded: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nBad Key: v\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
	"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/9.9\r\nHost: h\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nTrailer: X\r\n\r\n",
	"GET / HTTP/1.1\r\nHost",
	"",
}

// FuzzReadRequest checks the fast path against net/http: the same request
// (line, URL, header, host, framing, body) or an error from both.
func FuzzReadRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		want, wantBody, wantErr := readWith(raw, http.ReadRequest)
		got, gotBody, gotErr := readWith(raw, func(br *bufio.Reader) (*http.Request, error) {
			req, _, err := readRequest(context.Background(), br)
			return req, err
		})
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: net/http error %v, ours %v", raw, wantErr, gotErr)
		}
		if wantErr != nil {
			return
		}
		if got.Method != want.Method || got.URL.String() != want.URL.String() || !reflect.DeepEqual(got.URL, want.URL) ||
			got.RequestURI != want.RequestURI || got.Proto != want.Proto || got.ProtoMajor != want.ProtoMajor ||
			got.ProtoMinor != want.ProtoMinor || got.Host != want.Host || got.ContentLength != want.ContentLength ||
			got.Close != want.Close || !reflect.DeepEqual(got.Header, want.Header) ||
			!reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) || !reflect.DeepEqual(got.Trailer, want.Trailer) {
			t.Fatalf("%q:\nnet/http %+v\nours     %+v", raw, want, got)
		}
		if !bytes.Equal(gotBody.data, wantBody.data) || (gotBody.err == nil) != (wantBody.err == nil) {
			t.Fatalf("%q: body net/http %q (%v), ours %q (%v)", raw, wantBody.data, wantBody.err, gotBody.data, gotBody.err)
		}
	})
}

func readWith(raw []byte, read func(*bufio.Reader) (*http.Request, error)) (*http.Request, bodyResult, error) {
	br := bufio.NewReaderSize(bytes.NewReader(raw), 64)
	req, err := read(br)
	if err != nil {
		return nil, bodyResult{}, err
	}
	data, err := io.ReadAll(req.Body)
	req.Body = nil
	return req, bodyResult{data, err}, nil
}

// The fast path takes the common head and leaves the next request where
// it was; Close reads away a short unread rest of the body.
func TestReadRequestFastPath(t *testing.T) {
	raw := "POST /a HTTP/1.1\r\nHost: orders\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: orders\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(raw))
	req, checked, err := readRequest(context.Background(), br)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := req.Body.(*FixedBody); !ok || !checked {
		t.Fatalf("body %T: the fast path was not taken", req.Body)
	}
	if req.Host != "orders" || req.Header.Get("Host") != "" || req.ContentLength != 5 {
		t.Errorf("host %q header %v length %d", req.Host, req.Header, req.ContentLength)
	}
	req.Body.Close() // unread: the rest is dropped
	if _, err := req.Body.Read(make([]byte, 1)); err != http.ErrBodyReadAfterClose {
		t.Errorf("read after close: %v", err)
	}
	next, _, err := readRequest(context.Background(), br)
	if err != nil || next.URL.Path != "/b" {
		t.Fatalf("next request: %v, %v", next, err)
	}
}
