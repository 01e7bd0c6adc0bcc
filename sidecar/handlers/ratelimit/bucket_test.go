package ratelimit

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Unix(100, 0)
	b := newBucket(10, 3, t0)
	for i := range 3 {
		if !b.take(t0) {
			t.Fatalf("burst token %d refused", i)
		}
	}
	if b.take(t0) {
		t.Fatal("took a fourth token from a bucket of 3")
	}
	if !b.take(t0.Add(100 * time.Millisecond)) { // 10 rps: one token per 100 ms
		t.Fatal("no token after refill time")
	}
	if b.take(t0.Add(150 * time.Millisecond)) {
		t.Fatal("half a token is not a token")
	}
	// A long pause refills to the burst, no more.
	later := t0.Add(time.Hour)
	n := 0
	for b.take(later) {
		n++
	}
	if n != 3 {
		t.Errorf("after a pause took %d tokens, want the burst 3", n)
	}
	if d := newBucket(0.5, 0, t0); d.burst != 1 {
		t.Errorf("default burst for 0.5 rps = %v, want 1", d.burst)
	}
}
