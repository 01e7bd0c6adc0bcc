package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/traffic"
)

// chart is the timeline drawn in a scenario's HTML report: three panels on
// one time axis (answers per second by version and origin, failed requests
// per second, p99 per second), the steps marked across all three. Every
// coordinate is computed here, so the template only places elements and
// the page needs no script.
type chart struct {
	Width, Height float64
	// Left and Right are the plot area's edges; Top is where panels start
	// (the step numbers sit above it).
	Left, Right, Top, Bottom float64
	Panels                   []panel
	XTicks                   []tick
	Steps                    []stepMark
	Legend                   []legendItem
}

type panel struct {
	Title        string
	Top, Bottom  float64
	YTicks       []tick
	Paths        []seriesPath
	Bars         []bar
	Note         string
	NoteX, NoteY float64
}

type tick struct {
	Pos   float64
	Label string
}

// seriesPath is one series drawn as an SVG path: a filled area (stacked
// answers) or a line (p99).
type seriesPath struct {
	Name, Run, Color, D string
	Area                bool
}

type bar struct {
	X, Y, W, H float64
	Title      string
}

type stepMark struct {
	Index                 int
	Action, Status, Title string
	// X is the step's start; W its width (at least a hairline); LabelY
	// staggers the labels of steps too close to share a row.
	X, W, LabelX, LabelY float64
	Label, Anchor        string
	Shade                bool
}

type legendItem struct {
	Name, Color string
	Line        bool
}

// Layout of the SVG, in its own units (it scales to the page's width).
const (
	chartWidth   = 1100.0
	chartLeft    = 64.0
	chartRight   = chartWidth - 16
	chartTop     = 72.0 // three rows of step labels, then the first panel's title
	panelHeights = 170.0
	smallPanel   = 90.0
	panelGap     = 34.0
	labelRows    = 3
	clusterPx    = 6 // steps closer than this share a label
)

// Colours: answers by version (Okabe-Ito, safe for colour blindness), p99
// lines by run.
var (
	versionColours = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"}
	runColours     = []string{"#222222", "#7B3294", "#8C510A", "#01665E"}
	failColour     = "#D7191C"
)

// newChart lays out a result's timeline, or returns nil when no step ran.
func newChart(r *Result) *chart {
	t0, t1 := span(r)
	if t0.IsZero() {
		return nil
	}
	c := &chart{Width: chartWidth, Left: chartLeft, Right: chartRight, Top: chartTop}
	secs := max(t1.Sub(t0).Seconds(), 1)
	x := func(t time.Time) float64 { return c.Left + t.Sub(t0).Seconds()/secs*(c.Right-c.Left) }

	answers := panel{Title: "answered requests per second, by version and origin", Top: c.Top, Bottom: c.Top + panelHeights}
	failures := panel{Title: "failed requests per second", Top: answers.Bottom + panelGap, Bottom: answers.Bottom + panelGap + smallPanel}
	p99 := panel{Title: "p99 latency per second (ms), answered requests", Top: failures.Bottom + panelGap, Bottom: failures.Bottom + panelGap + panelHeights}
	c.Bottom = p99.Bottom
	c.Height = c.Bottom + 40

	maxRate, maxFailed, maxP99 := 1.0, 1.0, 1.0
	for _, tr := range r.Traffic {
		for _, s := range tr.Timeline {
			maxRate = max(maxRate, float64(s.Requests-s.Failed))
			maxFailed = max(maxFailed, float64(s.Failed))
			maxP99 = max(maxP99, ms(s.P99))
		}
	}
	maxRate, answers.YTicks = axis(maxRate, 1, answers.Top, answers.Bottom)
	maxFailed, failures.YTicks = axis(maxFailed, 1, failures.Top, failures.Bottom)
	maxP99, p99.YTicks = axis(maxP99, 0, p99.Top, p99.Bottom)
	y := func(p *panel, top, v float64) float64 { return p.Bottom - v/top*(p.Bottom-p.Top) }

	colourOf := map[string]string{}
	failed := 0
	targets := map[string]bool{}
	for _, tr := range r.Traffic {
		targets[tr.Service+tr.Container] = true
	}
	for ri, tr := range r.Traffic {
		if len(tr.Timeline) == 0 || tr.Started.IsZero() { // a report from before timelines
			continue
		}
		secX := func(i int) float64 { return x(tr.Started.Add(time.Duration(i) * time.Second)) }
		// Answers: the run's series stacked, version by version.
		keys := servedKeys(tr.Timeline)
		base := make([]float64, len(tr.Timeline))
		for _, k := range keys {
			name := k.Version
			if k.Origin != "" {
				name += " (" + k.Origin + ")"
			}
			if len(targets) > 1 { // v1 of one service is not v1 of another
				name = tr.Service + tr.Container + " " + name
			}
			col, ok := colourOf[name]
			if !ok {
				col = versionColours[len(colourOf)%len(versionColours)]
				colourOf[name] = col
				c.Legend = append(c.Legend, legendItem{Name: name, Color: col})
			}
			top := make([]float64, len(base))
			for i, s := range tr.Timeline {
				top[i] = base[i] + float64(servedCount(s.Served, k))
			}
			d := stepArea(len(base), secX, func(i int) float64 { return y(&answers, maxRate, top[i]) }, func(i int) float64 { return y(&answers, maxRate, base[i]) })
			answers.Paths = append(answers.Paths, seriesPath{Name: name, Run: tr.Name, Color: col, D: d, Area: true})
			base = top
		}
		for i, s := range tr.Timeline {
			if s.Failed == 0 {
				continue
			}
			failed += s.Failed
			x0, x1 := secX(i), secX(i+1)
			h := float64(s.Failed) / maxFailed * (failures.Bottom - failures.Top)
			failures.Bars = append(failures.Bars, bar{X: x0, W: max(x1-x0-1, 1), Y: failures.Bottom - h, H: h,
				Title: fmt.Sprintf("%s, second %d: %d of %d failed", tr.Name, s.At, s.Failed, s.Requests)})
		}
		col := runColours[ri%len(runColours)]
		d := stepLine(tr.Timeline, secX, func(i int) float64 { return y(&p99, maxP99, ms(tr.Timeline[i].P99)) })
		p99.Paths = append(p99.Paths, seriesPath{Name: "p99 " + tr.Name, Run: tr.Name, Color: col, D: d})
		c.Legend = append(c.Legend, legendItem{Name: "p99 " + tr.Name, Color: col, Line: true})
	}
	switch {
	case len(r.Traffic) == 0:
		answers.Note = "no traffic in this scenario"
	case len(p99.Paths) == 0:
		answers.Note = "no per-second figures of its traffic in this report"
	case failed == 0:
		failures.Note = "no request failed"
	}
	for _, p := range []*panel{&answers, &failures, &p99} {
		p.NoteX, p.NoteY = (c.Left+c.Right)/2, (p.Top+p.Bottom)/2
	}
	c.Panels = []panel{answers, failures, p99}
	c.XTicks = timeTicks(secs, c.Left, c.Right)
	c.Steps = stepMarks(r.Steps, x, c.Top)
	return c
}

// span is the time the chart covers: from the first step (or traffic
// run) to the end of the last one.
func span(r *Result) (t0, t1 time.Time) {
	see := func(start, end time.Time) {
		if start.IsZero() {
			return
		}
		if t0.IsZero() || start.Before(t0) {
			t0 = start
		}
		if end.After(t1) {
			t1 = end
		}
	}
	for _, s := range r.Steps {
		see(s.Started, s.Started.Add(s.Duration))
	}
	for _, t := range r.Traffic {
		see(t.Started, t.Started.Add(time.Duration(len(t.Timeline))*time.Second))
	}
	return t0, t1
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// axis rounds top up to a nice value and returns it with four to six
// ticks between bottom and top of the panel; minStep keeps counts whole.
func axis(top, minStep, pTop, pBottom float64) (float64, []tick) {
	step := max(niceStep(top/5), minStep)
	top = math.Ceil(top/step) * step
	var ticks []tick
	for v := 0.0; v <= top+step/2; v += step {
		ticks = append(ticks, tick{Pos: pBottom - v/top*(pBottom-pTop), Label: trimFloat(v)})
	}
	return top, ticks
}

// niceStep is the smallest of 1, 2 or 5 times a power of ten at least raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// timeTicks marks the time axis every 1, 2, 5, 10, 15, 30 or 60 s (or
// more), about ten marks in all.
func timeTicks(secs, left, right float64) []tick {
	step := 60.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60} {
		if secs/s <= 12 {
			step = s
			break
		}
	}
	for secs/step > 12 {
		step *= 2
	}
	var out []tick
	for v := 0.0; v <= secs; v += step {
		out = append(out, tick{Pos: left + v/secs*(right-left), Label: fmt.Sprintf("%gs", v)})
	}
	return out
}

func servedKeys(tl []traffic.Second) []traffic.Served {
	seen := map[traffic.Served]bool{}
	var out []traffic.Served
	for _, s := range tl {
		for _, v := range s.Served {
			k := traffic.Served{Version: v.Version, Origin: v.Origin}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	slices.SortFunc(out, func(a, b traffic.Served) int {
		return cmp.Or(cmp.Compare(a.Version, b.Version), cmp.Compare(a.Origin, b.Origin))
	})
	return out
}

func servedCount(served []traffic.Served, k traffic.Served) int {
	for _, s := range served {
		if s.Version == k.Version && s.Origin == k.Origin {
			return s.Count
		}
	}
	return 0
}

// stepArea draws a stacked series second by second: flat along each
// second's top, then back along the tops of the series below.
func stepArea(n int, x func(int) float64, top, bottom func(int) float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "M%.1f %.1f", x(0), bottom(0))
	for i := range n {
		fmt.Fprintf(&b, "L%.1f %.1fL%.1f %.1f", x(i), top(i), x(i+1), top(i))
	}
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "L%.1f %.1fL%.1f %.1f", x(i+1), bottom(i), x(i), bottom(i))
	}
	b.WriteString("Z")
	return b.String()
}

// stepLine draws a value per second, broken where a second had no answer.
func stepLine(tl []traffic.Second, x func(int) float64, y func(int) float64) string {
	var b strings.Builder
	pen := false
	for i, s := range tl {
		if s.P99 == 0 {
			pen = false
			continue
		}
		if pen {
			fmt.Fprintf(&b, "L%.1f %.1f", x(i), y(i))
		} else {
			fmt.Fprintf(&b, "M%.1f %.1f", x(i), y(i))
			pen = true
		}
		fmt.Fprintf(&b, "L%.1f %.1f", x(i+1), y(i))
	}
	return b.String()
}

// stepMarks places every step that ran. A step's label is its number and
// action ("2 wait"); steps that start within a few pixels of each other
// share one ("0 traffic, 1 wait"). A label goes in the first of three rows
// above the panels where it fits, right of its line (left of it near the
// right edge); where no row has room, the number alone ("7–10" for several)
// does.
func stepMarks(steps []Step, x func(time.Time) float64, top float64) []stepMark {
	var out []stepMark
	for _, s := range steps {
		if s.Started.IsZero() {
			continue
		}
		m := stepMark{Index: s.Index, Action: s.Action, Status: s.Status, X: x(s.Started), Shade: len(out)%2 == 0,
			Title: fmt.Sprintf("step %d: %s %s (%s, %s)", s.Index, s.Action, s.Detail, s.Status, s.Duration.Round(time.Millisecond))}
		m.W = max(x(s.Started.Add(s.Duration))-m.X, 1.5)
		out = append(out, m)
	}
	var lastEnd [labelRows]float64
	for i := range lastEnd {
		lastEnd[i] = math.Inf(-1)
	}
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && out[j].X-out[i].X < clusterPx {
			j++
		}
		m := &out[i]
		var each []string
		for k := i; k < j; k++ {
			each = append(each, fmt.Sprintf("%d %s", out[k].Index, out[k].Action))
		}
		labels := []string{strings.Join(each, ", "), strconv.Itoa(m.Index)}
		if j-i > 1 {
			labels[1] = fmt.Sprintf("%d–%d", m.Index, out[j-1].Index)
		}
		row := -1
		for _, label := range labels {
			m.Label, m.LabelX, m.Anchor = label, m.X+2, "start"
			from, to := m.X, m.X+labelWidth(label)
			if to > chartWidth {
				m.LabelX, m.Anchor = m.X-2, "end"
				from, to = m.X-labelWidth(label), m.X
			}
			if row = slices.IndexFunc(lastEnd[:], func(end float64) bool { return from >= end }); row >= 0 {
				lastEnd[row] = to
				break
			}
		}
		if row < 0 { // crowded: over the row that ends first
			row = slices.Index(lastEnd[:], slices.Min(lastEnd[:]))
			lastEnd[row] = m.X + labelWidth(m.Label)
		}
		for k := i; k < j; k++ {
			out[k].LabelY = top - 24 - float64(row)*14
		}
		i = j
	}
	return out
}

// labelWidth estimates a step label's width at the chart's 11px font.
func labelWidth(s string) float64 { return float64(len(s))*6.3 + 6 }
