package main

import (
	"fmt"
	"slices"
	"time"
)

// summary is the distribution of a set of latencies.
type summary struct {
	n                  int
	p50, p90, p99, max time.Duration
	mean               time.Duration
}

func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var total time.Duration
	for _, d := range s {
		total += d
	}
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return summary{n: len(s), p50: at(0.50), p90: at(0.90), p99: at(0.99), max: s[len(s)-1], mean: total / time.Duration(len(s))}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
