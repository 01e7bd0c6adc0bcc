// Package htmlreport_test opens the scenario runner's HTML reports in a
// real headless chromium (Debian's, driven by chromedp): the page loads
// with no console error and fetches nothing, the timeline marks every
// step that ran, in time order, and draws every series.
package htmlreport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/meshbridge/meshbridge/e2e/framework"
	"github.com/meshbridge/meshbridge/scenarios/report"
)

// The fixtures are the JSON reports of real runs (testdata/reports/README
// is in faults.yaml's header): registry-restart (two traffic runs, the
// adapter killed and started, eighteen steps, many at one instant) and
// faults (503s and a slow version mid-run).
var fixtures = []string{"registry-restart", "faults"}

func needChromium(t *testing.T) string {
	t.Helper()
	chromium, missing := framework.Chromium()
	if missing != "" {
		if framework.ChromiumRequired() {
			t.Fatalf("%s, and %s=1", missing, framework.RequireChromiumEnv)
		}
		t.Skip("HTML report browser test skipped: " + missing)
	}
	return chromium
}

func TestReportsInChromium(t *testing.T) {
	chromium := needChromium(t)
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			res := load(t, name)
			ctx, cancel := context.WithTimeout(context.Background(), framework.BrowserTimeout)
			defer cancel()
			page, err := framework.CheckReport(ctx, chromium, t.TempDir(), res)
			if err != nil {
				t.Fatal(err)
			}
			if err := page.Check(res); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(page.Screenshot))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			// The whole page: the chart, the steps table and the traffic table.
			if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 900 {
				t.Fatalf("screenshot of %v", b)
			}
		})
	}
}

func load(t *testing.T, name string) *report.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "reports", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Results []*report.Result }
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Results) != 1 {
		t.Fatalf("%s: %v (%d results)", name, err, len(doc.Results))
	}
	if r := doc.Results[0]; len(r.Traffic) == 0 || len(r.Traffic[0].Timeline) == 0 || r.Steps[0].Started.IsZero() {
		t.Fatalf("%s: a fixture without a timeline or step times", name)
	}
	return doc.Results[0]
}

// brokenPage has every fault the check looks for: a console error, an
// uncaught exception, a fetch beyond the page (to a closed loopback port)
// and only one of the steps marked, with no series.
const brokenPage = `<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>broken</title></head><body>
<img src="http://127.0.0.1:1/chart.png" alt="">
<svg id="timeline" viewBox="0 0 100 100"><g class="step" data-step="0"><rect x="1" y="1" width="5" height="5"/></g>
<g class="step-mark" data-step="0"><text>0 assert</text></g></svg>
<script>console.error("boom"); throw new Error("bad page");</script>
</body></html>`

// TestCheckFailsABrokenPage shows the browser check can fail: each fault
// of a hand-written page is reported.
func TestCheckFailsABrokenPage(t *testing.T) {
	chromium := needChromium(t)
	res := load(t, "faults")
	page := filepath.Join(t.TempDir(), "broken.html")
	if err := os.WriteFile(page, []byte(brokenPage), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), framework.BrowserTimeout)
	defer cancel()
	p, err := framework.OpenPage(ctx, chromium, page)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Check(res)
	if err == nil {
		t.Fatal("a broken page passed the check")
	}
	for _, want := range []string{"console.error: boom", "bad page", "fetched http://127.0.0.1:1/chart.png", "steps marked [0] with labels", `traffic main: drawn [], want a p99 line and areas for ["v1" "v2"]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the check did not report %q:\n%v", want, err)
		}
	}
}
