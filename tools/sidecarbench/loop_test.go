package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOpenLoopSharesTheScheduleInBlocks runs two targets at 400 rps for
// one second after a warm-up of 500 ms, in blocks of 50 ms: the measured
// second holds 400 slots, ten blocks of 20 for each target, and the
// warm-up's slots are sent but not counted.
// servers starts n servers that answer "ok" and returns their URLs and
// the log of which one saw each request, in turn.
func servers(t *testing.T, n int) (urls []string, seen func() []int) {
	var mu sync.Mutex
	var order []int
	for i := range n {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			_, _ = w.Write([]byte("ok"))
		}))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL+"/")
	}
	return urls, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(order)
	}
}

// targetsFor builds a target per URL, labelled one, two..., each
// reporting this process's CPU.
func targetsFor(t *testing.T, urls []string, conns int) []*target {
	self := strconv.Itoa(os.Getpid())
	var out []*target
	for i, u := range urls {
		tg, err := newTarget(spec{label: []string{"one", "two"}[i], url: u, pids: self}, http.MethodGet, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tg)
	}
	return out
}

// switches counts how often the server changes in order.
func switches(order []int) int {
	n := 0
	for i := 1; i < len(order); i++ {
		if order[i] != order[i-1] {
			n++
		}
	}
	return n
}

// TestOpenLoopSharesTheScheduleInBlocks runs two targets at 400 slots a
// second in blocks of 50 ms: 1.5 s of warm-up, then a measured second.
// The warm-up is longer than the second on purpose: had it been counted,
// the targets' time would be 2.5 s, apart from the measured second even
// on a loaded machine, where blocks end late (a run under load saw 1.51 s with a 0.5 s
// warm-up, which a tighter bound took for the warm-up counted).
func TestOpenLoopSharesTheScheduleInBlocks(t *testing.T) {
	urls, seen := servers(t, 2)
	targets := targetsFor(t, urls, 32)
	openLoop(400, 32, 50*time.Millisecond, 1500*time.Millisecond, time.Second, targets)

	order := seen()
	var busy time.Duration
	for i, tg := range targets {
		r := tg.result("rate")
		if r.Label != []string{"one", "two"}[i] {
			t.Errorf("target %d: label %q", i, r.Label)
		}
		// Every slot is accounted for: sent, dropped (every connection
		// busy) or missed (the machine stalled the pacer).
		if got := int64(r.Requests) + r.Errors + r.Dropped + r.Missed; got != 200 {
			t.Errorf("%s: %d requests, %d errors, %d dropped, %d missed: want 200 slots in all", r.Label, r.Requests, r.Errors, r.Dropped, r.Missed)
		}
		if r.Errors != 0 {
			t.Errorf("%s: %d errors", r.Label, r.Errors)
		}
		if len(tg.lateness) != r.Requests {
			t.Errorf("%s: lateness of %d requests recorded for %d", r.Label, len(tg.lateness), r.Requests)
		}
		// The warm-up's 1.5 s are 30 blocks, 300 slots for each target:
		// sent (unless missed) and not counted.
		if sent, counted := count(order, i), r.Requests; sent < counted || sent > counted+300 {
			t.Errorf("%s: the server saw %d requests, %d counted: want at most the 300 of the warm-up besides", r.Label, sent, counted)
		}
		// The rate is taken over the target's own time, with its CPU.
		if want := float64(r.Requests) / tg.busy.Seconds(); r.RPS != want {
			t.Errorf("%s: %.0f requests/s, want its requests over its own time, %.0f", r.Label, r.RPS, want)
		}
		if r.CPUSeconds <= 0 || r.CPUPer1k <= 0 {
			t.Errorf("%s: CPU of this process %v s, %v cores per 1k rps: want it measured", r.Label, r.CPUSeconds, r.CPUPer1k)
		}
		busy += tg.busy
	}
	// The two shared the measured second, not the warm-up before it.
	if busy < 900*time.Millisecond || busy > 2*time.Second {
		t.Errorf("the targets had the load for %v in all, want the measured second", busy)
	}
	// 50 blocks of 50 ms in turn: 49 switches, give or take requests sent
	// late across a block's end, or a block a stalled machine missed
	// whole. Taking turns per request would make hundreds.
	if n := switches(order); n < 25 || n > 200 {
		t.Errorf("the servers took turns %d times, want about 49 (50 blocks)", n)
	}
}

// TestClosedLoopTakesTurnsInBlocks runs two targets flat out for 600 ms
// in blocks of 50 ms: each gets six blocks, and its rate and CPU are
// measured over its own blocks only.
func TestClosedLoopTakesTurnsInBlocks(t *testing.T) {
	urls, seen := servers(t, 2)
	targets := targetsFor(t, urls, 4)
	clk := startClock()
	closedLoop(4, 50*time.Millisecond, 600*time.Millisecond, targets, clk)
	clk.stop()

	order := seen()
	for i, tg := range targets {
		r := tg.result("max")
		if r.Requests == 0 || r.Errors != 0 || int64(r.Requests) != int64(count(order, i)) {
			t.Errorf("%s: %d requests, %d errors, the server saw %d", r.Label, r.Requests, r.Errors, count(order, i))
		}
		// Six blocks of 50 ms, give or take late hand-overs on a busy machine.
		if tg.busy < 150*time.Millisecond || tg.busy > 450*time.Millisecond {
			t.Errorf("%s had the load for %v, want six blocks of 50 ms", r.Label, tg.busy)
		}
		if want := float64(r.Requests) / tg.busy.Seconds(); r.RPS != want {
			t.Errorf("%s: %.0f requests/s, want its requests over its own time, %.0f", r.Label, r.RPS, want)
		}
		if r.CPUSeconds <= 0 {
			t.Errorf("%s: CPU not measured", r.Label)
		}
	}
	// Requests in flight at a block's end finish on their target, so a
	// switch may come with a few stragglers.
	if n := switches(order); n < 5 || n > 11+11*2*4 {
		t.Errorf("the servers took turns %d times, want 11 (12 blocks) and a few stragglers", n)
	}
}

// count is how many requests server i saw.
func count(order []int, i int) int {
	n := 0
	for _, s := range order {
		if s == i {
			n++
		}
	}
	return n
}

func TestTargetSpecsRefuseBadInput(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"label=x", "a target needs a URL"},
		{"url=http://a/;colour=red", `unknown key "colour"`},
		{"url=http://a/;oops", `"oops" is not key=value`},
		{"url=not a url", `url "not a url"`},
		{"url=http://a/;proxy=::", `proxy "::"`},
		{"url=http://a/;pids=1,x", `"x" is not a process ID`},
	} {
		sp, err := parseSpec(c.spec)
		if err == nil {
			_, err = newTarget(sp, http.MethodGet, nil)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error with %q", c.spec, err, c.want)
		}
	}
}

func TestLoadRefusesMixedTargets(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-url", "http://a/", "-target", "url=http://b/"}, "not both"},
		{[]string{"-url", "http://a/", "-block", "0s"}, "must be positive"},
	} {
		if err := runLoad(c.args); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("load %q: %v, want an error with %q", c.args, err, c.want)
		}
	}
}
