package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is one URL under load, with its own connections and figures.
type target struct {
	label string
	req   *request
	pids  []int // processes whose CPU and memory to report

	from    time.Time // open loop: slots before it are the warm-up's
	dropped int64     // written by the pacer only
	missed  int64     // likewise
	errs    atomic.Int64

	// Kept by the clock: the time t had the load, and its processes' CPU
	// seconds meanwhile.
	busy      time.Duration
	busySince time.Time
	cpu       float64
	cpuAt     float64

	mu       sync.Mutex
	lats     []time.Duration
	lateness []time.Duration
}

// spec describes a target: -target's "label=...;url=...;proxy=...;pids=1,2".
type spec struct{ label, url, proxy, pids string }

func parseSpec(s string) (spec, error) {
	var sp spec
	for _, field := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(field, "=")
		switch {
		case !ok:
			return sp, fmt.Errorf("-target %q: %q is not key=value", s, field)
		case k == "label":
			sp.label = v
		case k == "url":
			sp.url = v
		case k == "proxy":
			sp.proxy = v
		case k == "pids":
			sp.pids = v
		default:
			return sp, fmt.Errorf("-target %q: unknown key %q (label, url, proxy, pids)", s, k)
		}
	}
	return sp, nil
}

// newTarget builds a target; each of its senders has a connection of
// its own (newConn).
func newTarget(sp spec, method string, body []byte) (*target, error) {
	if sp.url == "" {
		return nil, fmt.Errorf("a target needs a URL")
	}
	req, err := newRequest(sp.url, sp.proxy, method, body)
	if err != nil {
		return nil, err
	}
	pids, err := parsePIDs(sp.pids)
	if err != nil {
		return nil, err
	}
	return &target{label: sp.label, req: req, pids: pids}, nil
}

func (t *target) add(lats, lateness []time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lats = append(t.lats, lats...)
	t.lateness = append(t.lateness, lateness...)
}

// reset forgets what a warm-up recorded.
func (t *target) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lats, t.lateness = nil, nil
	t.errs.Store(0)
}

// result sums up t's recorded requests over the time it had the load.
func (t *target) result(mode string) result {
	t.mu.Lock()
	defer t.mu.Unlock()
	slices.Sort(t.lats)
	slices.Sort(t.lateness)
	r := result{Label: t.label, Mode: mode, Requests: len(t.lats), Errors: t.errs.Load(), Dropped: t.dropped, Missed: t.missed,
		P50: pct(t.lats, 50), P90: pct(t.lats, 90), P99: pct(t.lats, 99),
		LateP50: pct(t.lateness, 50), LateP99: pct(t.lateness, 99)}
	if len(t.lats) > 0 {
		r.Max = ms(t.lats[len(t.lats)-1])
	}
	if t.busy > 0 {
		r.RPS = float64(len(t.lats)) / t.busy.Seconds()
	}
	if len(t.pids) > 0 && r.RPS > 0 {
		r.CPUSeconds = t.cpu
		r.CPUPer1k = t.cpu / float64(len(t.lats)) * 1000 // cores per 1k rps: CPU seconds per 1,000 requests
		r.RSSMiB, r.PeakRSSMiB = memory(t.pids)
	}
	return r
}
