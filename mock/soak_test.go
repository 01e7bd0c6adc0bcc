package mock

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// soakEnv runs TestScenarioSoak for the duration it holds ("60s"): the
// issue's figure, eight callers at 1,000 requests a second together
// through one shared scenario. It is measured by hand, not in CI:
//
//	MOCK_SCENARIO_SOAK=60s go test -run TestScenarioSoak -v ./mock/
const soakEnv = "MOCK_SCENARIO_SOAK"

func TestScenarioSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv(soakEnv))
	if err != nil {
		t.Skipf("set %s to a duration to run it", soakEnv)
	}
	ts := start(t, Options{JournalEntries: -1}, writeStubs(t, map[string]string{"cycle.yaml": cycle}))
	const callers, rate = 8, 1000
	interval := time.Second * callers / rate
	var (
		mu        sync.Mutex
		served    = map[string]int{}
		failures  = map[string]int{}
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	end := time.Now().Add(d)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			// The callers' schedules are spread over one interval.
			next := time.Now().Add(interval * time.Duration(c) / callers)
			var mine []time.Duration
			for next.Before(end) {
				time.Sleep(time.Until(next))
				began := time.Now()
				status, body, err := get(client, ts.URL+"/step", "")
				took := time.Since(began)
				mu.Lock()
				switch {
				case err != nil:
					failures[err.Error()]++
				case status != http.StatusOK:
					failures[fmt.Sprintf("status %d", status)]++
				default:
					served[body]++
				}
				mu.Unlock()
				mine = append(mine, took)
				next = next.Add(interval)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	total := served["Started"] + served["two"] + served["three"]
	slices.Sort(latencies)
	final := ts.scenarios.get(scenarioKey{name: "cycle"})
	t.Logf("%d requests in %v (%.0f/s) by %d callers; failures %v; states served %v; final state %s (want %s); latency p50 %v p99 %v",
		len(latencies), d, float64(len(latencies))/d.Seconds(), callers, failures, served, final, []string{"Started", "two", "three"}[total%3],
		latencies[len(latencies)/2], latencies[len(latencies)*99/100])
	if len(failures) > 0 || final != []string{"Started", "two", "three"}[total%3] {
		t.Fatal("unmatched requests or a lost transition")
	}
	for _, state := range []string{"Started", "two", "three"} {
		if n := served[state]; n < total/3 || n > total/3+1 {
			t.Fatalf("state %s served %d times of %d: a lost transition", state, n, total)
		}
	}
}
