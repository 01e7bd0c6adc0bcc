package main

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/poll"
)

// TestOpenLoopDialsAgainWhenTheServerClosesConnections: a server that
// closes every third connection after its answer (as nginx does after
// keepalive_requests) costs no request.
func TestOpenLoopDialsAgainWhenTheServerClosesConnections(t *testing.T) {
	var n atomic.Int64
	url, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		ok(w, r)
	})
	targets := targetsFor(t, []string{url + "/"}, 4)
	openLoop(400, 4, time.Second, 0, 500*time.Millisecond, targets)
	r := targets[0].result("rate")
	if r.Errors != 0 {
		t.Errorf("%d errors", r.Errors)
	}
	// Four connections at 400 rps on loopback are never all busy; dropped
	// slots would mean closed connections not replaced.
	if r.Dropped > 20 {
		t.Errorf("%d of 200 slots dropped", r.Dropped)
	}
	if got := int64(r.Requests) + r.Errors + r.Dropped + r.Missed; got != 200 {
		t.Errorf("%d requests, %d dropped, %d missed: want 200 slots in all", r.Requests, r.Dropped, r.Missed)
	}
	if sent := len(seen()); sent != r.Requests {
		t.Errorf("the server saw %d requests, %d counted", sent, r.Requests)
	}
}

// TestPacedConnsCountAnUnansweredRequestAsAnError: a request still
// unanswered when the wait at the end runs out is an error, and the only
// connection is busy until then.
func TestPacedConnsCountAnUnansweredRequestAsAnError(t *testing.T) {
	release := make(chan struct{})
	url, seen := recorder(t, func(w http.ResponseWriter, _ *http.Request) { <-release })
	defer close(release)
	tg := targetsFor(t, []string{url + "/"}, 1)[0]
	p := startPaced(tg, 1)
	poll.Until(t, "the connection up and the request sent", func() bool { return p.send(time.Now()) }, poll.Within(5*time.Second))
	poll.Until(t, "the request at the app", func() bool { return len(seen()) > 0 }, poll.Within(5*time.Second))
	if p.send(time.Now()) {
		t.Error("a second request went out on the one busy connection")
	}
	start := time.Now()
	p.stop(100 * time.Millisecond)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("stop took %v with a wait of 100 ms", took)
	}
	if r := tg.result("rate"); r.Errors != 1 || r.Requests != 0 {
		t.Errorf("%d requests, %d errors: want the unanswered one as an error", r.Requests, r.Errors)
	}
}
