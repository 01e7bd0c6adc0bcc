package keepalive

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeeperRenewsHeldCopiesAndStopsOnRemove(t *testing.T) {
	var mu sync.Mutex
	renewed := map[string]int{}
	var running, most atomic.Int32
	k := New(50*time.Millisecond, 2, slog.New(slog.NewTextHandler(io.Discard, nil)), func(_ context.Context, id string) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // a renewal takes time: lets workers overlap
		mu.Lock()
		renewed[id]++
		mu.Unlock()
		return nil
	})
	for _, id := range []string{"a", "b", "c", "d"} {
		k.Add(id, true)
	}
	k.Add("adopted", false)
	k.Start()
	defer k.Stop()

	count := func(id string) int {
		mu.Lock()
		defer mu.Unlock()
		return renewed[id]
	}
	deadline := time.Now().Add(10 * time.Second)
	for count("a") < 3 || count("adopted") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("renewals after 10s: %v", renewed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	k.Remove("a")
	before := count("a")
	for at := count("b"); count("b") < at+3; {
		if time.Now().After(deadline) {
			t.Fatalf("b not renewed on: %v", renewed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := count("a"); got > before+1 { // one may have been in flight
		t.Errorf("a renewed %d times after Remove", got-before)
	}
	if most.Load() > 2 {
		t.Errorf("%d renewals ran at once, want at most 2 workers", most.Load())
	}
	if !k.Held("b") || k.Held("a") || k.Len() != 4 {
		t.Errorf("held: b %v, a %v, %d copies", k.Held("b"), k.Held("a"), k.Len())
	}
}
