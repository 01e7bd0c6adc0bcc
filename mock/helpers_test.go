package mock

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// testServer is a Server behind a real listener on loopback: the admin
// API under /__admin/ and the stubs everywhere else, as cmd/mockserver
// would mount them on one port.
type testServer struct {
	*Server
	URL string
}

func start(t *testing.T, opts Options, roots ...string) *testServer {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) > 0 {
		if err := s.LoadFiles(roots...); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/__admin/", s.Admin())
	mux.Handle("/", s.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return &testServer{Server: s, URL: hs.URL}
}

// call makes a request with a fresh client, so that a fault on one
// connection cannot leak into the next call; header is name, value
// pairs. It returns the status and body.
func call(t *testing.T, method, url, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	return resp.StatusCode, string(b), resp.Header
}
