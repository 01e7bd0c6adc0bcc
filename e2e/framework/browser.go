package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/meshbridge/meshbridge/scenarios/report"
)

// Browser settings from the environment.
const (
	// RequireChromiumEnv set to 1 turns a missing chromium into a failure
	// (.ci/run sets it after make chromium).
	RequireChromiumEnv = "MESHBRIDGE_REQUIRE_CHROMIUM"
	// ScreenshotDirEnv names a directory where browser checks also leave
	// their screenshots (<scenario>.png), for a person to look at.
	ScreenshotDirEnv = "MESHBRIDGE_REPORT_SCREENSHOTS"
)

// BrowserTimeout bounds one page check: start chromium, load, query, shoot.
const BrowserTimeout = 60 * time.Second

// Chromium returns the path of Debian's chromium, or why there is none.
func Chromium() (path, missing string) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, ""
		}
	}
	return "", "no chromium on PATH (make chromium installs Debian's)"
}

// Page is what a real browser saw of a report page.
type Page struct {
	// Problems are console errors and warnings, uncaught exceptions and
	// error log entries (a failed load among them), as chromium reported them.
	Problems []string
	// Foreign are the URLs the page asked for besides itself and inline
	// data: a self-contained report asks for none.
	Foreign []string
	// Steps are the step numbers marked on the timeline, in document order,
	// with the left edge of each mark's band; Labels the marks' texts.
	Steps  []int
	StepsX []float64
	Labels []string
	// Series are the drawn series by name, each with its rendered size.
	Series []Series
	// Screenshot is the full page as PNG.
	Screenshot []byte
}

// Series is one drawn path of the chart as the browser laid it out.
type Series struct {
	Name   string  `json:"name"`
	Run    string  `json:"run"`
	Area   bool    `json:"area"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

type domView struct {
	Steps  []int     `json:"steps"`
	StepsX []float64 `json:"stepsX"`
	Labels []string  `json:"labels"`
	Series []Series  `json:"series"`
}

// domQuery reads the chart back from the DOM after layout.
const domQuery = `(() => {
  const svg = document.querySelector('svg#timeline');
  if (!svg) return {steps: [], stepsX: [], labels: [], series: []};
  const bands = [...svg.querySelectorAll('g.step')];
  return {
    steps: bands.map(g => Number(g.dataset.step)),
    stepsX: bands.map(g => g.querySelector('rect').getBBox().x),
    labels: [...svg.querySelectorAll('g.step-mark text')].map(t => t.textContent),
    series: [...svg.querySelectorAll('path.series')].map(p => {
      const b = p.getBBox();
      return {name: p.dataset.series, run: p.dataset.run, area: p.classList.contains('area'), width: b.width, height: b.height};
    }),
  };
})()`

// CheckReport renders a result's HTML report into dir and opens it with
// OpenPage.
func CheckReport(ctx context.Context, chromium, dir string, res *report.Result) (*Page, error) {
	page := filepath.Join(dir, res.Name+".html")
	f, err := os.Create(page)
	if err != nil {
		return nil, err
	}
	if err := report.WriteHTML(f, res); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return OpenPage(ctx, chromium, page)
}

// OpenPage loads an HTML file in a headless chromium and returns what the
// browser saw; the screenshot is written beside the page (NAME.png) and,
// with $MESHBRIDGE_REPORT_SCREENSHOTS, there too.
func OpenPage(ctx context.Context, chromium, page string) (*Page, error) {
	dir := filepath.Dir(page)
	ctx, cancel := context.WithTimeout(ctx, BrowserTimeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1200, 900), chromedp.UserDataDir(filepath.Join(dir, "chromium-profile")))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	out := &Page{}
	pageURL := (&url.URL{Scheme: "file", Path: page}).String()
	err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					var text string
					if json.Unmarshal(a.Value, &text) != nil { // not a string: as the protocol has it
						text = strings.TrimSpace(string(a.Value) + " " + a.Description)
					}
					args = append(args, text)
				}
				out.Problems = append(out.Problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			out.Problems = append(out.Problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				out.Problems = append(out.Problems, fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; u != pageURL && !strings.HasPrefix(u, "data:") {
				out.Foreign = append(out.Foreign, u)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("chromium: %w", err)
	}
	// Runtime, log and network events are on: chromedp enables those
	// domains in every tab it opens.
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL), chromedp.WaitReady("body")); err != nil {
		return nil, fmt.Errorf("chromium loading %s: %w", page, err)
	}
	dom, err := chromedp.Run(bctx, chromedp.Evaluate[domView](domQuery))
	if err != nil {
		return nil, fmt.Errorf("chromium reading the chart of %s: %w", page, err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		return nil, fmt.Errorf("chromium screenshot of %s: %w", page, err)
	}
	mu.Lock()
	defer mu.Unlock()
	out.Steps, out.StepsX, out.Labels, out.Series, out.Screenshot = dom.Steps, dom.StepsX, dom.Labels, dom.Series, shot
	if err := os.WriteFile(strings.TrimSuffix(page, ".html")+".png", out.Screenshot, 0o644); err != nil {
		return nil, err
	}
	if shots := os.Getenv(ScreenshotDirEnv); shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(shots, strings.TrimSuffix(filepath.Base(page), ".html")+".png"), out.Screenshot, 0o644); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var stepNumbers = regexp.MustCompile(`(\d+)(?:–(\d+))?`)

// ChromiumRequired reports whether a missing chromium must fail a test
// rather than skip it.
func ChromiumRequired() bool { return os.Getenv(RequireChromiumEnv) == "1" }

// Check compares what the browser saw with the result: no console error
// or exception, no request beyond the page, every step that ran marked in
// order, and every series of every traffic run drawn with a size. It
// returns every mismatch, joined.
func (p *Page) Check(res *report.Result) error {
	var errs []error
	for _, msg := range p.Problems {
		errs = append(errs, fmt.Errorf("the page logged: %s", msg))
	}
	for _, u := range p.Foreign {
		errs = append(errs, fmt.Errorf("the page fetched %s", u))
	}
	var ran []int
	for _, s := range res.Steps {
		if !s.Started.IsZero() {
			ran = append(ran, s.Index)
		}
	}
	// A label names one step ("2 wait"), several ("0 traffic, 1 wait") or
	// a range ("7–10"); together they name every step that ran, once.
	var labelled []int
	for _, l := range p.Labels {
		for _, m := range stepNumbers.FindAllStringSubmatch(l, -1) {
			from, _ := strconv.Atoi(m[1])
			to := from
			if m[2] != "" {
				to, _ = strconv.Atoi(m[2])
			}
			for i := from; i <= to; i++ {
				labelled = append(labelled, i)
			}
		}
	}
	if !slices.Equal(p.Steps, ran) || !slices.Equal(labelled, ran) {
		errs = append(errs, fmt.Errorf("steps marked %v with labels %q, want %v", p.Steps, p.Labels, ran))
	}
	if !slices.IsSorted(p.StepsX) {
		errs = append(errs, fmt.Errorf("step marks out of time order: %v", p.StepsX))
	}
	// Per run: its p99 line, and one area per version and origin it
	// served, named after them.
	for _, t := range res.Traffic {
		var want []string
		for _, sec := range t.Timeline {
			for _, v := range sec.Served {
				name := v.Version
				if v.Origin != "" {
					name += " (" + v.Origin + ")"
				}
				if !slices.Contains(want, name) {
					want = append(want, name)
				}
			}
		}
		var areas []string
		line := false
		for _, s := range p.Series {
			switch {
			case s.Run != t.Name || s.Width <= 0:
			case s.Area:
				areas = append(areas, s.Name)
			default:
				line = true
			}
		}
		ok := line && len(areas) == len(want)
		for _, name := range want {
			ok = ok && slices.ContainsFunc(areas, func(a string) bool { return strings.HasSuffix(a, name) })
		}
		if !ok {
			errs = append(errs, fmt.Errorf("traffic %s: drawn %v, want a p99 line and areas for %q", t.Name, p.Series, want))
		}
	}
	if len(p.Screenshot) < 8 || string(p.Screenshot[1:4]) != "PNG" {
		errs = append(errs, fmt.Errorf("the screenshot is not a PNG"))
	}
	return errors.Join(errs...)
}
