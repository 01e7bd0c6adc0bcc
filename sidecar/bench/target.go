package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is one URL under load, with its own connections and figures.
type target struct {
	label string
	send  func() (time.Duration, error)
	pids  []int // processes whose CPU and memory to report

	jobs    chan time.Time // open loop: the slots to send in
	from    time.Time      // open loop: slots before it are the warm-up's
	dropped int64          // written by the pacer only
	missed  int64          // likewise
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

// newTarget builds a target with its own client and connection pool.
func newTarget(sp spec, method string, body []byte, conns int) (*target, error) {
	if sp.url == "" {
		return nil, fmt.Errorf("a target needs a URL")
	}
	if _, err := url.ParseRequestURI(sp.url); err != nil {
		return nil, fmt.Errorf("url %q: %w", sp.url, err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute}
	if sp.proxy != "" {
		u, err := url.ParseRequestURI(sp.proxy)
		if err != nil {
			return nil, fmt.Errorf("proxy %q: %w", sp.proxy, err)
		}
		tr.Proxy = http.ProxyURL(u)
	}
	pids, err := parsePIDs(sp.pids)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return &target{label: sp.label, send: sender(client, sp.url, method, body), pids: pids}, nil
}

// sender returns a function that sends one request and reads the whole
// answer, reporting how long that took.
func sender(client *http.Client, target, method string, body []byte) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		var rd io.Reader
		if method != http.MethodGet && method != http.MethodHead {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, target, rd)
		if err != nil {
			return 0, err
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), err
	}
}

// work sends a request per slot from t.jobs, recording those past the
// warm-up, until the pacer closes the channel.
func (t *target) work() {
	var mine, late []time.Duration
	for slot := range t.jobs {
		record := !slot.Before(t.from)
		if record {
			late = append(late, time.Since(slot))
		}
		d, err := t.send()
		switch {
		case !record:
		case err != nil:
			t.errs.Add(1)
		default:
			mine = append(mine, d)
		}
	}
	t.add(mine, late)
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
