package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// seenRequest is what a test server saw of one request.
type seenRequest struct {
	method, uri, host, body string
	length                  int64
}

// recorder is a server that records each request and answers with answer.
func recorder(t *testing.T, answer http.HandlerFunc) (url string, seen func() []seenRequest) {
	var mu sync.Mutex
	var got []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seenRequest{r.Method, r.RequestURI, r.Host, string(body), r.ContentLength})
		mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), got...)
	}
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }

func mustSend(t *testing.T, c *conn, n int) {
	t.Helper()
	for i := range n {
		if _, err := c.send(); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
}

func TestConnSendsTheRequestAndReusesTheConnection(t *testing.T) {
	url, seen := recorder(t, ok)
	req, err := newRequest(url+"/orders?id=7", "", http.MethodPost, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(req)
	defer c.close()
	mustSend(t, c, 1)
	first := c.c
	mustSend(t, c, 2)
	if c.c != first {
		t.Error("a keep-alive answer closed the connection")
	}
	for _, r := range seen() {
		want := seenRequest{"POST", "/orders?id=7", strings.TrimPrefix(url, "http://"), "hello", 5}
		if r != want {
			t.Errorf("server saw %+v, want %+v", r, want)
		}
	}
	if n := len(seen()); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

func TestConnThroughAProxySendsTheAbsoluteURL(t *testing.T) {
	proxy, seen := recorder(t, ok)
	req, err := newRequest("http://orders/api", proxy, http.MethodGet, []byte("ignored"))
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(req)
	defer c.close()
	mustSend(t, c, 1)
	want := []seenRequest{{"GET", "http://orders/api", "orders", "", 0}}
	if got := seen(); len(got) != 1 || got[0] != want[0] {
		t.Errorf("proxy saw %+v, want %+v", got, want)
	}
}

func TestConnReadsChunkedAnswersAndDialsAgainAfterClose(t *testing.T) {
	url, seen := recorder(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = w.Write([]byte("part one "))
		w.(http.Flusher).Flush() // chunked from here on
		_, _ = w.Write([]byte("part two"))
	})
	req, err := newRequest(url+"/", "", http.MethodGet, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(req)
	defer c.close()
	mustSend(t, c, 1)
	if c.c != nil {
		t.Error("the connection stayed open after the server's Connection: close")
	}
	mustSend(t, c, 1)
	if n := len(seen()); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

func TestConnReportsErrorsAndRecovers(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	url, _ := recorder(t, func(w http.ResponseWriter, _ *http.Request) {
		if fail.Load() {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		ok(w, nil)
	})
	req, err := newRequest(url+"/", "", http.MethodGet, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(req)
	defer c.close()
	if _, err := c.send(); err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Errorf("send to a failing server: %v, want status 503", err)
	}
	fail.Store(false)
	mustSend(t, c, 1)

	closed, err := newRequest("http://127.0.0.1:1/", "", http.MethodGet, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newConn(closed).send(); err == nil {
		t.Error("send to a closed port succeeded")
	}
}

func TestNewRequestRefusesWhatItCannotSend(t *testing.T) {
	for _, c := range []struct{ url, proxy, want string }{
		{"https://a/", "", "only http://"},
		{"http://a/", "socks5://p:1", "only http://"},
		{"::", "", `url "::"`},
	} {
		if _, err := newRequest(c.url, c.proxy, http.MethodGet, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("newRequest(%q, %q): %v, want an error with %q", c.url, c.proxy, err, c.want)
		}
	}
}
