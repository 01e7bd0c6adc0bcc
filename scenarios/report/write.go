package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// WriteJSON writes the results as one JSON document.
func WriteJSON(w io.Writer, results []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Results []*Result `json:"results"`
	}{results})
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes JUnit XML: a suite per scenario, a case per step (a
// scenario that could not run is one case in error, or skipped).
func WriteJUnit(w io.Writer, results []*Result) error {
	var out junitSuites
	var total time.Duration
	for _, r := range results {
		s := junitSuite{Name: r.Name, Time: secs(r.Duration), Timestamp: r.Started.UTC().Format(time.RFC3339)}
		if r.WorkDir != "" {
			s.SystemOut = "logs: " + r.WorkDir
		}
		switch r.Status {
		case Error, Skipped, Interrupted:
			if r.Status == Interrupted && len(r.Steps) > 0 {
				break // the interrupted step says it
			}
			c := junitCase{Name: "run", Classname: r.Name, Time: secs(r.Duration)}
			m := &junitMessage{Message: firstLine(r.Reason), Text: r.Reason}
			if r.Status != Skipped {
				c.Error = m
				s.Errors++
			} else {
				c.Skipped = m
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
		}
		for _, st := range r.Steps {
			c := junitCase{Name: fmt.Sprintf("%02d %s %s", st.Index, st.Action, st.Detail), Classname: r.Name, Time: secs(st.Duration)}
			switch st.Status {
			case Failed:
				c.Failure = &junitMessage{Message: firstLine(st.Message), Text: st.Message}
				s.Failures++
			case Error, Interrupted:
				c.Error = &junitMessage{Message: firstLine(st.Message), Text: st.Message}
				s.Errors++
			case Skipped:
				c.Skipped = &junitMessage{Message: st.Message}
				s.Skipped++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		total += r.Duration
		out.Suites = append(out.Suites, s)
	}
	out.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// WriteSummary writes the human summary: one block per scenario with its
// steps, traffic figures and failures, then a closing count line.
func WriteSummary(w io.Writer, results []*Result) {
	passed, failed, skipped, interrupted := 0, 0, 0, 0
	for _, r := range results {
		fmt.Fprintf(w, "\n%s  %s (%s, %s, setup %s)\n", strings.ToUpper(r.Status), r.Name, r.Provider, r.Duration.Round(time.Millisecond), r.Setup.Round(time.Millisecond))
		if r.Reason != "" {
			fmt.Fprintf(w, "  %s\n", indent(r.Reason, "  "))
		}
		for _, c := range r.Containers {
			fmt.Fprintf(w, "  container %s: %s\n", c.Name, c.Image)
		}
		for _, st := range r.Steps {
			mark := map[string]string{Passed: "ok  ", Failed: "FAIL", Error: "ERR ", Skipped: "skip", Interrupted: "STOP"}[st.Status]
			fmt.Fprintf(w, "  %s %2d %-8s %s (%s)\n", mark, st.Index, st.Action, st.Detail, st.Duration.Round(time.Millisecond))
			if st.Message != "" && st.Status != Passed {
				fmt.Fprintf(w, "            %s\n", indent(st.Message, "            "))
			} else if st.Message != "" {
				fmt.Fprintf(w, "            %s\n", st.Message)
			}
		}
		for _, t := range r.Traffic {
			s := t.Summary
			target := t.Service
			if t.Container != "" {
				target = "container " + t.Container
			}
			fmt.Fprintf(w, "  traffic %s -> %s: %d requests, %.2f%% failed, p50 %s p90 %s p99 %s\n", t.Name, target, s.Requests,
				s.ErrorRate*100, s.P50.Round(10*time.Microsecond), s.P90.Round(10*time.Microsecond), s.P99.Round(10*time.Microsecond))
			classes := make([]string, 0, len(t.Classes))
			for c := range t.Classes {
				classes = append(classes, c)
			}
			sort.Strings(classes)
			for _, c := range classes {
				line := fmt.Sprintf("    %-10s %5d requests  %s", c, t.Classes[c].Summary.Requests, FormatShares(t.Classes[c].Shares))
				fmt.Fprintln(w, strings.TrimRight(line, " "))
			}
		}
		if q := r.Requests; q != nil {
			fmt.Fprintf(w, "  requests: %s\n", q)
		}
		if r.Failed() && r.WorkDir != "" {
			fmt.Fprintf(w, "  logs kept in %s\n", r.WorkDir)
		}
		switch r.Status {
		case Passed:
			passed++
		case Skipped:
			skipped++
		case Interrupted:
			interrupted++
		default:
			failed++
		}
	}
	fmt.Fprintf(w, "\nscenarios: %d passed, %d failed, %d skipped", passed, failed, skipped)
	if interrupted > 0 {
		fmt.Fprintf(w, ", %d interrupted", interrupted)
	}
	fmt.Fprintln(w)
}

// FormatShares renders shares as "v1 90.1%  v2 9.9%", versions sorted.
func FormatShares(shares map[string]float64) string {
	keys := make([]string, 0, len(shares))
	for k := range shares {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.1f%%", k, shares[k]*100))
	}
	return strings.Join(parts, "  ")
}

func indent(s, pad string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
}

// String says the counts in one line, as the summary and the HTML report show them.
func (q *Requests) String() string {
	line := fmt.Sprintf("%d sent, %d failed (%d re-sent by the client, counted failed), %d retried by the mesh's retry policy", q.Sent, q.Failed, q.Resent, q.Retried)
	if q.RetriedNote != "" {
		line += " (" + q.RetriedNote + ")"
	}
	return line
}
