package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

type result struct {
	Label    string  `json:"label"`
	Mode     string  `json:"mode"`
	Requests int     `json:"requests"`
	Errors   int64   `json:"errors"`
	Dropped  int64   `json:"dropped"` // open loop: slots that found every connection busy
	Missed   int64   `json:"missed"`  // open loop: slots the pacer reached too late (the machine stalled)
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	// LateP50 and LateP99 (open loop): how long after its slot in the
	// schedule a request left.
	LateP50    float64 `json:"late_p50_ms,omitempty"`
	LateP99    float64 `json:"late_p99_ms,omitempty"`
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	CPUPer1k   float64 `json:"cpu_cores_per_1k_rps,omitempty"`
	RSSMiB     float64 `json:"rss_mib,omitempty"`
	PeakRSSMiB float64 `json:"peak_rss_mib,omitempty"`
}

func runLoad(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	one := spec{}
	fs.StringVar(&one.url, "url", "", "request URL")
	fs.StringVar(&one.label, "label", "", "label in the output")
	fs.StringVar(&one.proxy, "proxy", "", "HTTP proxy URL (the egress sidecar)")
	fs.StringVar(&one.pids, "pids", "", "comma-separated process IDs whose CPU and memory to report")
	var several []spec
	fs.Func("target", `a target as "label=...;url=...;proxy=...;pids=1,2" (proxy and pids optional), in place of -url and the rest; `+
		"several take turns (see -block)", func(v string) error {
		sp, err := parseSpec(v)
		several = append(several, sp)
		return err
	})
	block := fs.Duration("block", 2*time.Second, "with several targets: how long each gets the load before the next (much shorter blocks measure bursts, not sustained load)")
	qps := fs.Int("qps", 1000, "requests per second (open loop)")
	max := fs.Bool("max", false, "closed loop: as fast as -conns connections go (with several targets, all of them on the one in turn)")
	conns := fs.Int("conns", 32, "connections, per target")
	dur := fs.Duration("duration", 10*time.Second, "measured time, warm-up excluded, shared by the targets")
	warm := fs.Duration("warmup", time.Second, "warm-up, not measured: a closed loop with -max, else the schedule's first part")
	size := fs.Int("body", 1024, "request body bytes (POST)")
	method := fs.String("method", http.MethodPost, "request method; GET and HEAD send no body")
	text := fs.String("body-text", "", "request body to send in place of -body bytes of 'y' (a JSON document for the mock server benchmark)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case len(several) > 0 && one != spec{}:
		return fmt.Errorf("give -target, or -url with -label, -proxy and -pids, not both")
	case len(several) == 0:
		several = []spec{one}
	}
	if *block <= 0 || *dur <= 0 || *warm < 0 || !*max && *qps <= 0 {
		return fmt.Errorf("-block, -duration and -qps must be positive, -warmup not negative")
	}
	body := bytes.Repeat([]byte("y"), *size)
	if *text != "" {
		body = []byte(*text)
	}
	var targets []*target
	for _, sp := range several {
		t, err := newTarget(sp, *method, body)
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	mode := "rate"
	if *max {
		mode = "max"
		closedLoop(*conns, *block, *warm, targets, nil)
		for _, t := range targets {
			t.reset()
		}
		clk := startClock()
		closedLoop(*conns, *block, *dur, targets, clk)
		clk.stop()
	} else {
		openLoop(*qps, *conns, *block, *warm, *dur, targets)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, t := range targets {
		if err := enc.Encode(t.result(mode)); err != nil {
			return err
		}
	}
	return nil
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return ms(sorted[i])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// parsePIDs reads a comma-separated list of process IDs ("" for none).
func parsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("pids %q: %q is not a process ID", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// cpuSeconds sums user and system CPU time of the processes (/proc, Linux).
func cpuSeconds(pids []int) float64 {
	total := 0.0
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the ")" that ends the command name; utime and stime
		// are fields 14 and 15 of the whole line.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(fields[11], 64)
		st, _ := strconv.ParseFloat(fields[12], 64)
		total += (ut + st) / 100 // USER_HZ is 100 on Linux
	}
	return total
}

// memory sums current and peak resident memory of the processes, in MiB.
func memory(pids []int) (rss, peak float64) {
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				rss += kb / 1024
			case "VmHWM:":
				peak += kb / 1024
			}
		}
	}
	return rss, peak
}
