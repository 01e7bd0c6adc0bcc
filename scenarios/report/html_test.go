package report

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/traffic"
)

// shifted is a result whose traffic moves from v1 (legacy) to v2 (mesh)
// over 20 seconds, with failures and a latency bump in seconds 8 and 9.
func shifted() *Result {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	var tl []traffic.Second
	for i := range 20 {
		v2 := min(i*10, 100)
		s := traffic.Second{At: i, Counts: traffic.Counts{Requests: 100, P99: 12 * time.Millisecond,
			Served: []traffic.Served{{Version: "v1", Origin: "legacy", Count: 100 - v2}, {Version: "v2", Origin: "mesh", Count: v2}}}}
		if i == 8 || i == 9 {
			s.Failed, s.P99 = 3, 80*time.Millisecond
			s.Served[1].Count -= 3
		}
		tl = append(tl, s)
	}
	step := func(i int, action, detail string, at, took float64, status string) Step {
		return Step{Index: i, Action: action, Detail: detail, Status: status,
			Started: t0.Add(time.Duration(at * float64(time.Second))), Duration: time.Duration(took * float64(time.Second))}
	}
	return &Result{Name: "shift", Provider: "process", Status: Failed, Started: t0.Add(-3 * time.Second), Duration: 24 * time.Second, Setup: 3 * time.Second,
		Steps: []Step{
			step(0, "traffic", "main: orders/ at 100/s for 20s in the background", 0, 0.001, Passed),
			step(1, "apply", "TrafficSplit/<script>alert(1)</script>", 0.01, 0.3, Passed),
			step(2, "wait", "5s", 0.4, 5, Passed),
			step(3, "assert", "errorRate main", 8, 0.002, Failed),
			step(4, "await", "main", 8.1, 12, Passed),
			{Index: 5, Action: "assert", Detail: "share", Status: Skipped},
		},
		Traffic: []TrafficReport{{Name: "main", Service: "orders", Started: t0, Timeline: tl,
			Summary: traffic.Summary{Requests: 2000, Failed: 6, Errors: map[string]int{"status 503": 6}},
			Classes: map[string]ClassReport{"default": {Summary: traffic.Summary{Requests: 2000, Failed: 6}, Shares: map[string]float64{"v1": 0.4, "v2": 0.6}}}}},
	}
}

func TestHTMLShowsStepsSeriesAndTables(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, shifted()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	// Every step that ran is marked on the chart; the skipped one is not.
	for _, i := range []string{"0", "1", "2", "3", "4"} {
		if !strings.Contains(page, `<g class="step" data-step="`+i+`"`) {
			t.Fatalf("no mark for step %s", i)
		}
	}
	if strings.Contains(page, `<g class="step" data-step="5"`) || !strings.Contains(page, `<tr class="step-skipped" data-step="5">`) {
		t.Fatal("the skipped step is marked, or missing from the table")
	}
	for _, want := range []string{
		`data-series="v1 (legacy)"`, `data-series="v2 (mesh)"`, `data-series="p99 main"`,
		`<title>main, second 8: 3 of 100 failed</title>`, `6 × status 503`, `v1 40.0%  v2 60.0%`,
		`TrafficSplit/&lt;script&gt;alert(1)&lt;/script&gt;`, `data-status="failed"`,
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Fatal("a script element in the page")
	}
	// Self-contained: nothing refers to another document.
	if m := regexp.MustCompile(`(?i)(src=|href="(?:https?:)?//|url\(|@import)`).FindString(page); m != "" {
		t.Fatalf("the page refers outside itself: %q", m)
	}
}

// TestHTMLGolden pins the page of shifted(), checked by eye in chromium
// (open testdata/shift.golden.html); rewrite with UPDATE_GOLDEN=1.
func TestHTMLGolden(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, shifted()); err != nil {
		t.Fatal(err)
	}
	path := "testdata/shift.golden.html"
	if os.Getenv("UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("the page differs from %s (UPDATE_GOLDEN=1 rewrites it after a look in a browser)", path)
	}
}

// Runs to different services name their series by service too: front's
// v1 is not orders' v1.
func TestChartNamesSeriesByServiceWhenRunsDiffer(t *testing.T) {
	r := shifted()
	front := r.Traffic[0]
	front.Name, front.Service = "via-front", "front"
	front.Started = front.Started.Add(2 * time.Second)
	r.Traffic = append(r.Traffic, front)
	var names []string
	for _, p := range newChart(r).Panels[0].Paths {
		names = append(names, p.Run+": "+p.Name)
	}
	want := []string{"main: orders v1 (legacy)", "main: orders v2 (mesh)", "via-front: front v1 (legacy)", "via-front: front v2 (mesh)"}
	if !slices.Equal(names, want) {
		t.Fatalf("series %q, want %q", names, want)
	}
}

// A report written before runs had timelines (no start) draws no series
// rather than series at the year 1.
func TestHTMLWithoutTimelines(t *testing.T) {
	r := shifted()
	r.Traffic[0].Started = time.Time{}
	c := newChart(r)
	if c == nil || len(c.Steps) != 5 || len(c.Panels[0].Paths) != 0 || c.Panels[0].Note != "no per-second figures of its traffic in this report" || c.Panels[1].Note != "" {
		t.Fatalf("chart %+v", c)
	}
}

func TestHTMLOfAScenarioThatDidNotStart(t *testing.T) {
	var b bytes.Buffer
	r := &Result{Name: "broken", Provider: "process", Status: Error, Reason: "registry not ready <now>"}
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if page := b.String(); !strings.Contains(page, "nothing to chart") || !strings.Contains(page, "registry not ready &lt;now&gt;") || strings.Contains(page, "<svg class=\"timeline\"") {
		t.Fatalf("page:\n%s", page)
	}
}

func TestAxisAndTicks(t *testing.T) {
	for _, c := range []struct{ raw, want float64 }{{0.3, 0.5}, {1, 1}, {1.1, 2}, {3, 5}, {7, 10}, {120, 200}} {
		if got := niceStep(c.raw); got != c.want {
			t.Fatalf("niceStep(%v) = %v, want %v", c.raw, got, c.want)
		}
	}
	top, ticks := axis(430, 1, 0, 100)
	if top != 500 || len(ticks) != 6 || ticks[5].Label != "500" || ticks[0].Pos != 100 || ticks[5].Pos != 0 {
		t.Fatalf("axis(430) = %v %+v", top, ticks)
	}
	if top, ticks := axis(1, 1, 0, 100); top != 1 || len(ticks) != 2 {
		t.Fatalf("a count axis has fractions: %v %+v", top, ticks)
	}
	if ticks := timeTicks(95, 0, 950); len(ticks) != 10 || ticks[1].Label != "10s" {
		t.Fatalf("timeTicks(95s) %+v", ticks)
	}
}

// The page says the scenario's requests, failures and retries, as the summary does.
func TestHTMLShowsRequestsAndRetries(t *testing.T) {
	r := shifted()
	r.Requests = &Requests{Sent: 2000, Failed: 6, Resent: 1, Retried: 4}
	var page, summary bytes.Buffer
	if err := WriteHTML(&page, r); err != nil {
		t.Fatal(err)
	}
	WriteSummary(&summary, []*Result{r})
	want := "2000 sent, 6 failed (1 re-sent by the client, counted failed), 4 retried by the mesh&#39;s retry policy"
	if !strings.Contains(page.String(), `<p class="facts" id="requests">Requests: `+want+`.</p>`) {
		t.Fatalf("page lacks the requests line %q", want)
	}
	if !strings.Contains(summary.String(), "  requests: "+strings.ReplaceAll(want, "&#39;", "'")+"\n") {
		t.Fatalf("summary lacks the requests line:\n%s", summary.String())
	}
}
