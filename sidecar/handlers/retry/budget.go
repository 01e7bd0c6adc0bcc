package retry

import (
	"sync"
	"time"
)

// budgetWindow is how far back requests and retries are counted.
const budgetWindow = 10

// budget counts requests and retries in one-second buckets over the last
// ten seconds.
type budget struct {
	mu      sync.Mutex
	buckets [budgetWindow]bucket
}

type bucket struct {
	sec      int64
	requests float64
	retries  float64
}

func (b *budget) slot(now time.Time) *bucket {
	sec := now.Unix()
	bk := &b.buckets[sec%budgetWindow]
	if bk.sec != sec {
		*bk = bucket{sec: sec}
	}
	return bk
}

// request records one original request.
func (b *budget) request(now time.Time) {
	b.mu.Lock()
	b.slot(now).requests++
	b.mu.Unlock()
}

// withdraw records a retry if the budget allows it.
func (b *budget) withdraw(now time.Time, percent, minPerSecond float64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.slot(now)
	var reqs, retries float64
	for i := range b.buckets {
		if bk := &b.buckets[i]; now.Unix()-bk.sec < budgetWindow {
			reqs += bk.requests
			retries += bk.retries
		}
	}
	if retries+1 > reqs*percent/100+minPerSecond*budgetWindow {
		return false
	}
	cur.retries++
	return true
}
