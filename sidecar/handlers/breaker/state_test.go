package breaker

import (
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/table"
)

// The state machine on a fake clock: closed → open on consecutive failures
// or error rate, open → half-open after OpenDuration, half-open → closed on
// enough successful probes or → open on a failed one.
func TestCircuitTransitions(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name  string
		p     table.Breaker
		steps func(t *testing.T, c *circuit, p *table.Breaker)
	}{
		{"consecutive failures", table.Breaker{ConsecutiveFailures: 3, MinRequests: 100, Window: 10 * time.Second, OpenDuration: time.Second, HalfOpenRequests: 2},
			func(t *testing.T, c *circuit, p *table.Breaker) {
				for i := range 2 {
					c.record(t0, p, true, false)
					if c.current() != Closed {
						t.Fatalf("open after %d failures", i+1)
					}
				}
				c.record(t0, p, false, false) // a success resets the run
				c.record(t0, p, true, false)
				c.record(t0, p, true, false)
				if c.current() != Closed {
					t.Fatal("success did not reset the run")
				}
				if st, ch := c.record(t0, p, true, false); !ch || st != Open {
					t.Fatal("third failure in a row did not open")
				}
				if ok, _, _, _ := c.allow(t0.Add(500*time.Millisecond), p); ok {
					t.Fatal("open breaker let a request through")
				}
				ok, probe, st, ch := c.allow(t0.Add(time.Second), p)
				if !ok || !probe || !ch || st != HalfOpen {
					t.Fatalf("after OpenDuration: ok=%v probe=%v state=%v", ok, probe, st)
				}
				if ok, probe, _, _ := c.allow(t0.Add(time.Second), p); !ok || !probe {
					t.Fatal("second probe refused (HalfOpenRequests 2)")
				}
				if ok, _, _, _ := c.allow(t0.Add(time.Second), p); ok {
					t.Fatal("third request let through while half-open")
				}
				c.record(t0.Add(time.Second), p, false, true)
				if st, ch := c.record(t0.Add(time.Second), p, false, true); !ch || st != Closed {
					t.Fatal("two good probes did not close")
				}
			}},
		{"failed probe reopens", table.Breaker{ConsecutiveFailures: 1, MinRequests: 100, Window: 10 * time.Second, OpenDuration: time.Second, HalfOpenRequests: 1},
			func(t *testing.T, c *circuit, p *table.Breaker) {
				c.record(t0, p, true, false)
				c.allow(t0.Add(time.Second), p)
				if st, ch := c.record(t0.Add(time.Second), p, true, true); !ch || st != Open {
					t.Fatal("failed probe did not reopen")
				}
				if ok, _, _, _ := c.allow(t0.Add(1500*time.Millisecond), p); ok {
					t.Fatal("reopened breaker must wait OpenDuration again")
				}
			}},
		{"error rate", table.Breaker{ErrorRatePercent: 50, MinRequests: 10, Window: 10 * time.Second, OpenDuration: time.Second, HalfOpenRequests: 1},
			func(t *testing.T, c *circuit, p *table.Breaker) {
				// 4 failures in 9 requests: below MinRequests.
				for i := range 9 {
					c.record(t0, p, i%2 == 0 && i < 8, false)
				}
				if c.current() != Closed {
					t.Fatal("opened below MinRequests")
				}
				if st, ch := c.record(t0, p, true, false); !ch || st != Open {
					t.Fatal("5 of 10 failures (50%) did not open")
				}
			}},
		{"old failures leave the window", table.Breaker{ErrorRatePercent: 50, MinRequests: 4, Window: 10 * time.Second, OpenDuration: time.Second, HalfOpenRequests: 1},
			func(t *testing.T, c *circuit, p *table.Breaker) {
				c.record(t0, p, true, false)
				c.record(t0, p, true, false)
				c.record(t0, p, false, false)
				// 20 s later the two failures are out of the window.
				for range 4 {
					c.record(t0.Add(20*time.Second), p, false, false)
				}
				if st, ch := c.record(t0.Add(20*time.Second), p, true, false); ch {
					t.Fatalf("opened (%v) on failures outside the window", st)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &circuit{}
			tt.steps(t, c, &tt.p)
		})
	}
}
