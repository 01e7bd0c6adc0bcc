package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenLoopSharesTheScheduleInBlocks runs two targets at 400 rps for
// one second after a warm-up of 500 ms, in blocks of 50 ms: the measured
// second holds 400 slots, ten blocks of 20 for each target, and the
// warm-up's slots are sent but not counted.
func TestOpenLoopSharesTheScheduleInBlocks(t *testing.T) {
	var hits [2]atomic.Int64
	var mu sync.Mutex
	var order []int // which server saw each request, in turn
	var urls []string
	for i := range hits {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits[i].Add(1)
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			_, _ = w.Write([]byte("ok"))
		}))
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL+"/")
	}
	targets, err := newTargets(strings.Join(urls, ","), "one,two", "", http.MethodGet, 0, 32)
	if err != nil {
		t.Fatal(err)
	}
	m := &meter{}
	openLoop(400, 32, 50*time.Millisecond, 500*time.Millisecond, time.Second, targets, m)

	for i, tg := range targets {
		r := tg.result("rate", m.elapsed)
		if r.Label != []string{"one", "two"}[i] {
			t.Errorf("target %d: label %q", i, r.Label)
		}
		if got := int64(r.Requests) + r.Errors + r.Dropped; got != 200 {
			t.Errorf("%s: %d requests, %d errors, %d dropped: want 200 slots in all", r.Label, r.Requests, r.Errors, r.Dropped)
		}
		if r.Errors != 0 {
			t.Errorf("%s: %d errors", r.Label, r.Errors)
		}
		if len(tg.lateness) != r.Requests {
			t.Errorf("%s: lateness of %d requests recorded for %d", r.Label, len(tg.lateness), r.Requests)
		}
		// The warm-up's 500 ms are ten blocks: 100 slots each.
		if sent, counted := hits[i].Load(), int64(r.Requests); sent != counted+100 {
			t.Errorf("%s: the server saw %d requests, %d counted: want the 100 of the warm-up besides", r.Label, sent, counted)
		}
	}
	// 30 blocks of 50 ms in turn: 29 switches, give or take a request
	// sent late across a block's end.
	switches := 0
	for i := 1; i < len(order); i++ {
		if order[i] != order[i-1] {
			switches++
		}
	}
	if switches < 29 || switches > 45 {
		t.Errorf("the servers took turns %d times, want 29 (30 blocks)", switches)
	}
	// The meter starts with the measured part: the last slot leaves 2.5 ms
	// before its end, and the warm-up would add half a second.
	if m.elapsed < 990*time.Millisecond || m.elapsed >= 1400*time.Millisecond {
		t.Errorf("measured for %v, want the second after the warm-up", m.elapsed)
	}
}

func TestNewTargetsRefusesBadLists(t *testing.T) {
	for _, c := range []struct{ urls, labels, want string }{
		{"", "", "-url is required"},
		{"http://a/,http://b/", "one", "2 URLs need 2 comma-separated labels"},
		{"http://a/,not a url", "one,two", `-url "not a url"`},
	} {
		if _, err := newTargets(c.urls, c.labels, "", http.MethodGet, 0, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("newTargets(%q, %q): %v, want an error with %q", c.urls, c.labels, err, c.want)
		}
	}
}
