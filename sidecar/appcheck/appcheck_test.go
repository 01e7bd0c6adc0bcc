package appcheck

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	var status atomic.Int64
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte(`{"status":"UP"}`))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"http 2xx", Options{Kind: "http", Address: addr, Path: "/health"}, true},
		{"http body match", Options{Kind: "http", Address: addr, Path: "/health", ExpectBody: `"UP"`}, true},
		{"http body mismatch", Options{Kind: "http", Address: addr, Path: "/health", ExpectBody: "DOWN"}, false},
		{"http exact status mismatch", Options{Kind: "http", Address: addr, Path: "/", ExpectStatus: 204}, false},
		{"http refused", Options{Kind: "http", Address: closedAddr, Path: "/"}, false},
		{"tcp open", Options{Kind: "tcp", Address: addr}, true},
		{"tcp refused", Options{Kind: "tcp", Address: closedAddr}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Timeout = time.Second
			err := New(tt.opts).Probe(context.Background())
			if (err == nil) != tt.ok {
				t.Fatalf("Probe() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// Run reports the first state, then only changes, after the thresholds.
func TestRunReportsTransitions(t *testing.T) {
	var status atomic.Int64
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	c := New(Options{Kind: "http", Address: srv.Listener.Addr().String(), Path: "/", Interval: 10 * time.Millisecond,
		Timeout: time.Second, UnhealthyThreshold: 2, HealthyThreshold: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reports := make(chan bool, 16)
	go c.Run(ctx, func(h bool) { reports <- h })
	want := func(h bool) {
		t.Helper()
		select {
		case got := <-reports:
			if got != h {
				t.Fatalf("report = %v, want %v", got, h)
			}
		case <-ctx.Done():
			t.Fatalf("no report (want %v)", h)
		}
	}
	want(true)
	status.Store(500)
	want(false)
	status.Store(200)
	want(true)
	cancel()
}
