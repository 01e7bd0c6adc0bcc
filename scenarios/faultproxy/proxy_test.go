package faultproxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T) (*Proxy, *httptest.Server) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "pong") }))
	t.Cleanup(up.Close)
	p, err := Listen("127.0.0.1:0", strings.TrimPrefix(up.URL, "http://"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("proxy did not stop")
		}
	})
	return p, up
}

func get(p *Proxy) (string, time.Duration, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := c.Get("http://" + p.Addr() + "/")
	if err != nil {
		return "", time.Since(start), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), time.Since(start), err
}

func TestForwardsAndAddsLatency(t *testing.T) {
	p, _ := start(t)
	if body, _, err := get(p); err != nil || body != "pong" {
		t.Fatalf("through the proxy: %q %v", body, err)
	}
	p.SetLatency(150*time.Millisecond, 0)
	if _, took, err := get(p); err != nil || took < 150*time.Millisecond {
		t.Fatalf("with latency: took %v, err %v", took, err)
	}
	p.SetLatency(0, 0)
	if _, took, err := get(p); err != nil || took > 2*time.Second {
		t.Fatalf("latency removed: took %v, err %v", took, err)
	}
}

func TestCutClosesAndRefusesUntilHealed(t *testing.T) {
	p, _ := start(t)
	// A keep-alive connection open through the proxy is cut too.
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + p.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p.Cut()
	if _, err := c.Get("http://" + p.Addr() + "/"); err == nil {
		t.Fatal("request went through a cut link")
	}
	if _, _, err := get(p); err == nil {
		t.Fatal("new connection went through a cut link")
	}
	p.Heal()
	if body, _, err := get(p); err != nil || body != "pong" {
		t.Fatalf("after heal: %q %v", body, err)
	}
}

func TestUpstreamDownFailsTheConnection(t *testing.T) {
	p, up := start(t)
	up.Close()
	if _, _, err := get(p); err == nil {
		t.Fatal("request answered with the upstream gone")
	}
}
