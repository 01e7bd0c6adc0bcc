package traffic

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"
)

// Second holds the figures of the requests due in one second of a run, for
// the whole run and, when the run has classes, per class.
type Second struct {
	// At is the second's start, in seconds from the start of the run.
	At int `json:"at"`
	Counts
	Classes map[string]Counts `json:"classes,omitempty"`
}

// Counts are one second's figures for a set of requests.
type Counts struct {
	Requests int `json:"requests"`
	Failed   int `json:"failed"`
	// P99 is the nearest-rank 99th percentile of the answered requests'
	// latencies, read from a log histogram: at most 9% above the true value
	// and never above the second's slowest answer.
	P99 time.Duration `json:"p99"`
	// Served counts the answered (2xx) requests by the target's version and
	// origin.
	Served []Served `json:"served,omitempty"`
}

// Served is how many answers one version of the target gave from one origin.
type Served struct {
	Version string `json:"version"`
	// Origin is where the answering instance lives ("legacy", "mesh"),
	// empty when the run's Plan.Origin does not tell.
	Origin string `json:"origin,omitempty"`
	Count  int    `json:"count"`
}

// NoVersion stands for answers that name no version of the target (a
// container's, or an answer that is not the demo app's JSON).
const NoVersion = "(none)"

// timeline collects a run's per-second figures as samples are recorded.
// Memory is bounded by the run's length, not its rate: one bucket per
// second per class, each with a sparse histogram of at most ~200 cells.
type timeline struct {
	mu      sync.Mutex
	target  string
	classes bool
	seconds []*secondBuckets
}

type secondBuckets struct {
	all     bucket
	byClass map[string]*bucket
}

type servedKey struct{ version, origin string }

type bucket struct {
	requests, failed int
	served           map[servedKey]int
	latency          map[int]int // histogram cell -> count
	answered         int
	slowest          time.Duration
}

func newTimeline(target string, classes bool) *timeline {
	return &timeline{target: target, classes: classes}
}

func (t *timeline) add(s *Sample) {
	sec := int(s.Offset / time.Second)
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.seconds) <= sec {
		t.seconds = append(t.seconds, &secondBuckets{})
	}
	sb := t.seconds[sec]
	sb.all.add(s, t.target)
	if t.classes {
		if sb.byClass == nil {
			sb.byClass = map[string]*bucket{}
		}
		b := sb.byClass[s.Class]
		if b == nil {
			b = &bucket{}
			sb.byClass[s.Class] = b
		}
		b.add(s, t.target)
	}
}

func (b *bucket) add(s *Sample, target string) {
	b.requests++
	if !s.OK() {
		b.failed++
	} else {
		v, ok := s.Versions[target]
		if !ok {
			v = NoVersion
		}
		if b.served == nil {
			b.served = map[servedKey]int{}
		}
		b.served[servedKey{v, s.Origin}]++
	}
	if s.Err == "" { // as Summarise: every answer's latency, whatever its status
		if b.latency == nil {
			b.latency = map[int]int{}
		}
		b.latency[latencyCell(s.Latency)]++
		b.answered++
		b.slowest = max(b.slowest, s.Latency)
	}
}

func (b *bucket) counts() Counts {
	c := Counts{Requests: b.requests, Failed: b.failed, P99: b.p99()}
	for k, n := range b.served {
		c.Served = append(c.Served, Served{Version: k.version, Origin: k.origin, Count: n})
	}
	slices.SortFunc(c.Served, func(a, b Served) int {
		return cmp.Or(cmp.Compare(a.Version, b.Version), cmp.Compare(a.Origin, b.Origin))
	})
	return c
}

// Latency histogram cells: cell 0 holds everything up to 100 µs, cell i
// up to 100 µs × 2^(i/8), so each cell is 9% wider than the last.
const (
	cellBase  = 100 * time.Microsecond
	cellsPer2 = 8
)

func latencyCell(d time.Duration) int {
	if d <= cellBase {
		return 0
	}
	return int(math.Ceil(cellsPer2 * math.Log2(float64(d)/float64(cellBase))))
}

func cellTop(i int) time.Duration {
	return time.Duration(float64(cellBase) * math.Exp2(float64(i)/cellsPer2))
}

func (b *bucket) p99() time.Duration {
	if b.answered == 0 {
		return 0
	}
	rank := int(math.Ceil(0.99 * float64(b.answered)))
	cells := make([]int, 0, len(b.latency))
	for i := range b.latency {
		cells = append(cells, i)
	}
	slices.Sort(cells)
	seen := 0
	for _, i := range cells {
		seen += b.latency[i]
		if seen >= rank {
			return min(cellTop(i), b.slowest)
		}
	}
	return b.slowest
}

// snapshot returns every second from the run's start to the last one with
// a request due, empty seconds included.
func (t *timeline) snapshot() []Second {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Second, len(t.seconds))
	for i, sb := range t.seconds {
		out[i] = Second{At: i, Counts: sb.all.counts()}
		if len(sb.byClass) > 0 {
			out[i].Classes = map[string]Counts{}
			for name, b := range sb.byClass {
				out[i].Classes[name] = b.counts()
			}
		}
	}
	return out
}
