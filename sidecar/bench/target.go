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

	jobs    chan time.Time // open loop: the slots to send in
	from    time.Time      // open loop: slots before it are the warm-up's
	dropped int64          // written by the pacer only
	errs    atomic.Int64

	mu       sync.Mutex
	lats     []time.Duration
	lateness []time.Duration
}

// newTargets builds a target per comma-separated URL, each with its own
// client and connection pool.
func newTargets(urls, labels, proxy, method string, size, conns int) ([]*target, error) {
	if urls == "" {
		return nil, fmt.Errorf("-url is required")
	}
	list := strings.Split(urls, ",")
	names := strings.Split(labels, ",")
	if len(list) > 1 && len(names) != len(list) {
		return nil, fmt.Errorf("%d URLs need %d comma-separated labels, got %q", len(list), len(list), labels)
	}
	var proxyURL *url.URL
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil {
			return nil, err
		}
		proxyURL = u
	}
	body := bytes.Repeat([]byte("y"), size)
	var out []*target
	for i, u := range list {
		if _, err := url.ParseRequestURI(u); err != nil {
			return nil, fmt.Errorf("-url %q: %w", u, err)
		}
		tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute}
		if proxyURL != nil {
			tr.Proxy = http.ProxyURL(proxyURL)
		}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		label := labels
		if len(list) > 1 {
			label = names[i]
		}
		out = append(out, &target{label: label, send: sender(client, u, method, body)})
	}
	return out, nil
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

// result sums up t's recorded requests over elapsed.
func (t *target) result(mode string, elapsed time.Duration) result {
	t.mu.Lock()
	defer t.mu.Unlock()
	slices.Sort(t.lats)
	slices.Sort(t.lateness)
	r := result{Label: t.label, Mode: mode, Requests: len(t.lats), Errors: t.errs.Load(), Dropped: t.dropped,
		RPS: float64(len(t.lats)) / elapsed.Seconds(), P50: pct(t.lats, 50), P90: pct(t.lats, 90), P99: pct(t.lats, 99),
		LateP50: pct(t.lateness, 50), LateP99: pct(t.lateness, 99)}
	if len(t.lats) > 0 {
		r.Max = ms(t.lats[len(t.lats)-1])
	}
	return r
}
