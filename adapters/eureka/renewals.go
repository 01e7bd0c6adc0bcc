package eureka

import (
	"sync"
	"time"
)

// renewCounter counts renewals over the last minute in one-second
// buckets, for the status page's "Renews (last min)".
type renewCounter struct {
	mu      sync.Mutex
	buckets [60]int
	seconds [60]int64
}

func (c *renewCounter) add(now time.Time) {
	sec := now.Unix()
	i := int(sec % 60)
	c.mu.Lock()
	if c.seconds[i] != sec {
		c.seconds[i], c.buckets[i] = sec, 0
	}
	c.buckets[i]++
	c.mu.Unlock()
}

// lastMinute sums the buckets of the 60 seconds before now.
func (c *renewCounter) lastMinute(now time.Time) int {
	sec := now.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	for i := range c.buckets {
		if sec-c.seconds[i] < 60 {
			total += c.buckets[i]
		}
	}
	return total
}
