package ratelimit

import (
	"sync"
	"time"
)

// bucket is a token bucket: tokens refill at rps up to burst.
type bucket struct {
	mu     sync.Mutex
	rps    float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rps float64, burst int, now time.Time) *bucket {
	b := float64(burst)
	if b <= 0 {
		b = max(1, rps)
	}
	return &bucket{rps: rps, burst: b, tokens: b, last: now}
}

// take removes one token if there is one.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(b.burst, b.tokens+el.Seconds()*b.rps)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
