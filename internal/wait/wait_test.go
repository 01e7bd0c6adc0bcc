package wait

import (
	"context"
	"testing"
	"time"
)

func TestBackoffDoublesUpToMaxAndResets(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 500 * time.Millisecond}
	want := []time.Duration{100, 200, 400, 500, 500}
	for i, w := range want {
		if got := b.Next(); got != w*time.Millisecond {
			t.Fatalf("step %d: %v, want %v", i, got, w*time.Millisecond)
		}
	}
	b.Reset()
	if got := b.Next(); got != b.Min {
		t.Errorf("after Reset: %v, want %v", got, b.Min)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Minute) {
		t.Error("a cancelled sleep reported the full time")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("a cancelled sleep did not return at once")
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("a short sleep did not complete")
	}
}
