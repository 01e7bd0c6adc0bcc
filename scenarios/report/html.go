package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/traffic"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(htmlSource))

// htmlPage is what the template shows of one result.
type htmlPage struct {
	R                        *Result
	Started, Duration, Setup string
	Chart                    *chart
	Steps                    []htmlStep
	Traffic                  []htmlTraffic
}

type htmlStep struct {
	Step
	At, Took string
}

type htmlTraffic struct {
	Name, Target, Class string
	Requests, Failed    int
	P50, P90, P99       string
	Shares, Errors      string
}

// WriteHTML writes one scenario's report as a self-contained HTML page:
// a timeline chart (answers per second by version and origin, failures and
// p99 per second, the steps marked on it) drawn as inline SVG, then the
// steps and the traffic runs as tables. It loads nothing from the network
// and needs no script.
func WriteHTML(w io.Writer, r *Result) error {
	p := htmlPage{R: r, Started: r.Started.Format(time.RFC3339), Duration: r.Duration.Round(time.Millisecond).String(),
		Setup: r.Setup.Round(time.Millisecond).String(), Chart: newChart(r)}
	t0, _ := span(r)
	for _, s := range r.Steps {
		hs := htmlStep{Step: s, At: "-", Took: s.Duration.Round(time.Millisecond).String()}
		if !s.Started.IsZero() {
			hs.At = fmt.Sprintf("+%.1fs", s.Started.Sub(t0).Seconds())
		} else {
			hs.Took = "-"
		}
		p.Steps = append(p.Steps, hs)
	}
	for _, t := range r.Traffic {
		target := t.Service
		if t.Container != "" {
			target = "container " + t.Container
		}
		p.Traffic = append(p.Traffic, trafficRow(t.Name, target, "all", t.Summary, nil))
		for _, c := range slices.Sorted(maps.Keys(t.Classes)) {
			cr := t.Classes[c]
			if len(t.Classes) == 1 && cr.Summary.Requests == t.Summary.Requests {
				p.Traffic[len(p.Traffic)-1].Shares = FormatShares(cr.Shares) // one class: one row
				continue
			}
			p.Traffic = append(p.Traffic, trafficRow("", "", c, cr.Summary, cr.Shares))
		}
	}
	return htmlTemplate.Execute(w, p)
}

func trafficRow(name, target, class string, s traffic.Summary, shares map[string]float64) htmlTraffic {
	round := func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() }
	row := htmlTraffic{Name: name, Target: target, Class: class, Requests: s.Requests, Failed: s.Failed,
		P50: round(s.P50), P90: round(s.P90), P99: round(s.P99), Shares: FormatShares(shares)}
	var parts []string
	for _, reason := range slices.Sorted(maps.Keys(s.Errors)) {
		parts = append(parts, fmt.Sprintf("%d × %s", s.Errors[reason], reason))
	}
	row.Errors = strings.Join(parts, "\n")
	return row
}
