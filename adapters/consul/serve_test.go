package consul

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/internal/poll"
)

// A blocking query parked when the adapter shuts down is answered at
// once, so the drain does not wait out its 10 minutes.
func TestServeDrainsBlockingQueries(t *testing.T) {
	st := adaptertest.Store(t)
	srv := New(st, Options{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ctx, ln) }()
	poll.Until(t, "running", func() bool { return srv.running.Load() }, poll.Within(5*time.Second))

	resp, err := http.Get("http://" + ln.Addr().String() + "/v1/catalog/services")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	idx := resp.Header.Get("X-Consul-Index")
	answered := make(chan int, 1)
	go func() {
		r, err := http.Get("http://" + ln.Addr().String() + "/v1/catalog/services?wait=10m&index=" + idx)
		if err != nil {
			answered <- 0
			return
		}
		r.Body.Close()
		answered <- r.StatusCode
	}()
	poll.Until(t, "query parked", func() bool { return srv.blocked.Load() == 1 }, poll.Within(5*time.Second))
	start := time.Now()
	cancel()
	select {
	case code := <-answered:
		if code != 200 {
			t.Fatalf("parked query answered %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("parked query not answered on shutdown")
	}
	for _, ch := range []chan error{runDone, serveDone} {
		select {
		case err := <-ch:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("did not stop")
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("drain took %v", took)
	}
}
