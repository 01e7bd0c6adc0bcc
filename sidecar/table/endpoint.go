package table

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/meshbridge/meshbridge/registry"
)

// Endpoint is one instance as the data plane sees it.
type Endpoint struct {
	Key      registry.InstanceKey
	ID       string
	Address  string // host:port the transport dials
	Weight   float64
	Labels   map[string]string
	Healthy  bool
	Shadow   bool
	Canary   string // name of the canary rule holding it, "" if none
	Protocol string // "h2c" when the instance says it speaks only HTTP/2
	// Stats outlive table swaps: the same instance at the same address keeps
	// its counters and ejection state across rule and instance changes.
	Stats *Stats
}

// Stats are the per-endpoint counters the load balancer and outlier
// detection share.
type Stats struct {
	// Active is the number of requests in flight (least request).
	Active atomic.Int64
	// EjectedUntil is the unix-nanosecond time an ejection ends (0: not ejected).
	EjectedUntil atomic.Int64
	// Consecutive5xx counts failures in a row for outlier detection.
	Consecutive5xx atomic.Int64
	// Ejections counts recent ejections; each one lasts longer, and the
	// count decays while the endpoint behaves (outlier detection's interval).
	Ejections atomic.Int64
	// LastEjectionEnd is when the latest ejection ended or ends (unix ns).
	LastEjectionEnd atomic.Int64
}

// Ejected reports whether the endpoint is ejected at now.
func (s *Stats) Ejected(now time.Time) bool {
	u := s.EjectedUntil.Load()
	return u != 0 && now.UnixNano() < u
}

// statsCache hands out one *Stats per instance key and address, kept across
// table builds, and forgets endpoints that vanished.
type statsCache struct {
	mu sync.Mutex
	m  map[statsKey]*Stats
}

type statsKey struct {
	key  registry.InstanceKey
	addr string
}

func (c *statsCache) take(key registry.InstanceKey, addr string, keep map[statsKey]*Stats) *Stats {
	k := statsKey{key, addr}
	s := c.m[k]
	if s == nil {
		s = &Stats{}
	}
	keep[k] = s
	return s
}
