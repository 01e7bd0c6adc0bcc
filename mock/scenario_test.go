package mock

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/mock/stub"
)

// writeStubs writes files (name → content) into a temporary stub root.
func writeStubs(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// cycle is a scenario of three states that every request moves on:
// Started → two → three → Started, each answering its state's name.
const cycle = `
mappings:
  - scenarioName: cycle
    requiredScenarioState: Started
    newScenarioState: two
    request: {method: GET, url: /step}
    response: {body: Started}
  - scenarioName: cycle
    requiredScenarioState: two
    newScenarioState: three
    request: {method: GET, url: /step}
    response: {body: two}
  - scenarioName: cycle
    requiredScenarioState: three
    newScenarioState: Started
    request: {method: GET, url: /step}
    response: {body: three}
`

// Eight callers at once through one shared scenario: every request is
// matched (no 404) and moves the state exactly once, so the states served
// are as many as a single caller would have seen, and the state at the
// end is where that many moves lead. A lost transition (two requests
// serving the same state from one read) would upset both counts.
func TestScenarioUnderConcurrentCallers(t *testing.T) {
	ts := start(t, Options{}, writeStubs(t, map[string]string{"cycle.yaml": cycle}))
	const callers, each = 8, 150
	served := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for range each {
				status, body, err := get(client, ts.URL+"/step", "")
				if err != nil || status != http.StatusOK {
					errs <- fmt.Errorf("status %d, %v: %s", status, err, body)
					return
				}
				mu.Lock()
				served[body]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = callers * each
	for i, state := range []string{"Started", "two", "three"} {
		want := total / 3
		if i < total%3 {
			want++
		}
		if served[state] != want {
			t.Errorf("state %s served %d times, want %d (all: %v)", state, served[state], want, served)
		}
	}
	if got, want := ts.scenarios.get(scenarioKey{name: "cycle"}), []string{"Started", "two", "three"}[total%3]; got != want {
		t.Errorf("state at the end %q, want %q", got, want)
	}
	if e, _, _ := ts.journal.counts(); e != total {
		t.Errorf("journal has %d entries, want %d", e, total)
	}
}

// With scenarioKey, each caller's correlation header has a state of its
// own: eight callers at once each see the cycle from its start, in
// order, whatever the others do.
func TestScenarioKeyedByAHeader(t *testing.T) {
	keyed := strings.ReplaceAll(cycle, "    request:", "    scenarioKey: {header: X-Test-Id}\n    request:")
	ts := start(t, Options{}, writeStubs(t, map[string]string{"cycle.yaml": keyed}))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for c := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := range 30 {
				_, body, err := get(client, ts.URL+"/step", fmt.Sprintf("suite-%d", c))
				if want := []string{"Started", "two", "three"}[i%3]; err != nil || body != want {
					errs <- fmt.Errorf("caller %d, call %d: %q (%v), want %q", c, i, body, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	scs := ts.scenarios.list(ts.Stubs())
	if len(scs) != 1 || len(scs[0].States) != 8 || scs[0].State != stub.ScenarioStarted {
		t.Fatalf("scenarios %+v: want one, with 8 keyed states and the shared one untouched", scs)
	}
}

// get is a GET with an optional X-Test-Id; errors are returned, for use
// off the test's goroutine.
func get(client *http.Client, url, testID string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if testID != "" {
		req.Header.Set("X-Test-Id", testID)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String(), err
}
