package serve

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
)

var quiet = slog.New(slog.DiscardHandler)

// A long-poll parked in a handler sees the drain signal and answers, and the
// run group returns well before the shutdown timeout.
func TestServeDrainsLongPolls(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	parked := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(parked)
		select {
		case <-DrainSignal(r.Context()):
			io.WriteString(w, "drained")
		case <-time.After(time.Minute):
			io.WriteString(w, "timed out")
		}
	})
	g := app.NewGroup()
	if err := Join(g, Listener{Name: "api", Listener: ln, Handler: h}, quiet, Timeouts{Shutdown: 20 * time.Second}, Limits{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.Until(ctx)
	served := make(chan error, 1)
	go func() { served <- g.Run() }()
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	select {
	case <-parked:
	case <-time.After(10 * time.Second):
		t.Fatal("request never reached the handler")
	}
	start := time.Now()
	cancel()
	select {
	case got := <-answer:
		if got != "drained" {
			t.Fatalf("long-poll answered %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long-poll not answered during the drain")
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the group did not return")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("drain took %v", d)
	}
	if DrainSignal(context.Background()) != nil {
		t.Fatal("a context outside a group has a drain signal")
	}
}

// A port in use is reported before anything serves, naming the listener;
// aborting the group then releases the listener bound before it.
func TestJoinReportsPortConflicts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	first := free.Addr().String()
	free.Close()
	g := app.NewGroup()
	if err := Join(g, Listener{Name: "first", Addr: first, Handler: http.NotFoundHandler()}, quiet, Timeouts{}, Limits{}); err != nil {
		t.Fatal(err)
	}
	err = Join(g, Listener{Name: "clash", Addr: busy.Addr().String(), Handler: http.NotFoundHandler()}, quiet, Timeouts{}, Limits{})
	if err == nil || !strings.Contains(err.Error(), "clash listener") {
		t.Fatalf("join: %v", err)
	}
	g.Abort()
	again, err := net.Listen("tcp", first)
	if err != nil {
		t.Fatalf("the first listener was not released: %v", err)
	}
	again.Close()
}
