package traffic

import (
	"slices"
	"strconv"
	"time"
)

// Summary describes a set of samples.
type Summary struct {
	Requests int `json:"requests"`
	Failed   int `json:"failed"`
	// Resent are requests the client's transport sent again (counted in
	// Failed: that retry is not the mesh's).
	Resent    int     `json:"resent,omitempty"`
	ErrorRate float64 `json:"errorRate"`
	// Latencies of answered requests (any status).
	P50 time.Duration `json:"p50"`
	P90 time.Duration `json:"p90"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
	// Errors counts failures by reason ("503", "timeout", ...).
	Errors map[string]int `json:"errors,omitempty"`
}

// Summarise computes a summary of the samples of one class ("" for all).
func Summarise(samples []Sample, class string) Summary {
	var s Summary
	var lat []time.Duration
	for i := range samples {
		x := &samples[i]
		if class != "" && x.Class != class {
			continue
		}
		s.Requests++
		if x.Resent {
			s.Resent++
		}
		if !x.OK() {
			s.Failed++
			if s.Errors == nil {
				s.Errors = map[string]int{}
			}
			reason := x.Err
			if reason == "" {
				reason = "status " + strconv.Itoa(x.Status)
			}
			s.Errors[reason]++
		}
		if x.Err == "" {
			lat = append(lat, x.Latency)
		}
	}
	if s.Requests > 0 {
		s.ErrorRate = float64(s.Failed) / float64(s.Requests)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		s.P50, s.P90, s.P99 = Percentile(lat, 0.50), Percentile(lat, 0.90), Percentile(lat, 0.99)
		s.Max = lat[len(lat)-1]
	}
	return s
}

// Percentile returns the nearest-rank percentile q (0-1] of sorted values.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// Shares returns, for the answered (2xx) samples of one class ("" for
// all), the share served by each version of service, and how many answers
// the shares are over.
func Shares(samples []Sample, class, service string) (map[string]float64, int) {
	counts := map[string]int{}
	n := 0
	for i := range samples {
		x := &samples[i]
		if (class != "" && x.Class != class) || !x.OK() {
			continue
		}
		n++
		v, ok := x.Versions[service]
		if !ok {
			v = "(none)"
		}
		counts[v]++
	}
	out := map[string]float64{}
	for v, c := range counts {
		out[v] = float64(c) / float64(n)
	}
	return out, n
}
