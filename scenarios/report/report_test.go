package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/traffic"
)

func results() []*Result {
	return []*Result{
		{Name: "ok", Provider: "process", Status: Passed, Duration: 2 * time.Second,
			Steps:   []Step{{Index: 0, Action: "apply", Detail: "CanaryRule/c", Status: Passed}},
			Traffic: []TrafficReport{{Name: "t", Service: "orders", Summary: traffic.Summary{Requests: 10}, Classes: map[string]ClassReport{"default": {Shares: map[string]float64{"v1": 0.9, "v2": 0.1}}}}}},
		{Name: "bad", Provider: "process", Status: Failed, WorkDir: "/tmp/w",
			Steps: []Step{{Index: 0, Action: "assert", Detail: "share", Status: Failed, Message: "v2 got 0%\nmore"}, {Index: 1, Action: "wait", Status: Skipped}}},
		{Name: "nodocker", Provider: "container", Status: Skipped, Reason: "no Docker engine",
			Containers: []Container{{Name: "consul", Image: "hashicorp/consul:1.19", Ports: map[string]int{"http": 8500}}},
			Traffic:    []TrafficReport{{Name: "leader", Container: "consul", Summary: traffic.Summary{Requests: 5}}}},
		{Name: "broken", Provider: "process", Status: Error, Reason: "registry not ready"},
		{Name: "stopped", Provider: "process", Status: Interrupted, Reason: "interrupted: interrupt signal received",
			Steps: []Step{{Index: 0, Action: "traffic", Detail: "live", Status: Interrupted, Message: "interrupted: interrupt signal received"}}},
	}
}

func TestJUnitCountsAndMessages(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, results()); err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if got.Tests != 6 || got.Failures != 1 || got.Errors != 2 || got.Skipped != 2 || len(got.Suites) != 5 {
		t.Fatalf("totals %+v", got)
	}
	bad := got.Suites[1]
	if bad.Cases[0].Failure == nil || bad.Cases[0].Failure.Message != "v2 got 0%" || !strings.Contains(bad.SystemOut, "/tmp/w") {
		t.Fatalf("failed suite %+v", bad)
	}
	if got.Suites[2].Cases[0].Skipped == nil || got.Suites[3].Cases[0].Error == nil {
		t.Fatalf("skip/error cases %+v %+v", got.Suites[2], got.Suites[3])
	}
	// An interrupted run is one error, on the step that was cut.
	if st := got.Suites[4]; len(st.Cases) != 1 || st.Cases[0].Error == nil {
		t.Fatalf("interrupted suite %+v", st)
	}
}

func TestJSONAndSummary(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, results()); err != nil {
		t.Fatal(err)
	}
	var back struct{ Results []*Result }
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Results) != 5 || back.Results[0].Traffic[0].Classes["default"].Shares["v2"] != 0.1 ||
		back.Results[2].Containers[0].Ports["http"] != 8500 || back.Results[2].Traffic[0].Container != "consul" {
		t.Fatalf("JSON round trip: %v %+v", err, back)
	}
	b.Reset()
	WriteSummary(&b, results())
	out := b.String()
	for _, want := range []string{"PASSED  ok", "FAIL  0 assert", "v1 90.0%  v2 10.0%", "logs kept in /tmp/w", "container consul: hashicorp/consul:1.19",
		"traffic leader -> container consul: 5 requests", "STOP  0 traffic", "INTERRUPTED  stopped", "scenarios: 1 passed, 2 failed, 1 skipped, 1 interrupted"} {
		if !strings.Contains(out, want) {
			t.Fatalf("summary lacks %q:\n%s", want, out)
		}
	}
	if !results()[1].Failed() || results()[2].Failed() || !results()[4].Failed() {
		t.Fatal("Failed()")
	}
}
