package main

import (
	"context"
	"sync"
	"time"
)

// openLoop sends qps requests a second from a schedule for warm+dur,
// recording those whose slot falls after the warm-up. With several
// targets, each gets the whole schedule for one block in turn, so that
// noise on the machine (other tenants of a VM) falls on all of them alike.
// A slot that finds all of its target's connections busy is dropped, not
// sent late (fortio's -uniform -nocatchup). The schedule is kept by a
// pacer on a thread of its own (newPacer); m measures the recorded part.
func openLoop(qps, conns int, block, warm, dur time.Duration, targets []*target, m *meter) {
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+dur)
	var wg sync.WaitGroup
	for _, t := range targets {
		t.jobs, t.from = make(chan time.Time, conns), measureFrom
		for range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.work()
			}()
		}
	}
	interval := time.Second / time.Duration(qps)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sleepUntil := newPacer()
		measuring := false
		for i := 0; ; i++ {
			slot := start.Add(time.Duration(i) * interval)
			if !slot.Before(end) {
				break
			}
			sleepUntil(slot)
			if !measuring && !slot.Before(measureFrom) {
				measuring = true
				m.begin()
			}
			t := targets[int(slot.Sub(start)/block)%len(targets)]
			select {
			case t.jobs <- slot:
			default:
				if measuring {
					t.dropped++
				}
			}
		}
		for _, t := range targets {
			close(t.jobs)
		}
	}()
	<-done
	wg.Wait()
	m.end()
}

// closedLoop keeps conns requests to t in flight until ctx ends.
func closedLoop(ctx context.Context, conns int, t *target) {
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				d, err := t.send()
				if err != nil {
					t.errs.Add(1)
					continue
				}
				mine = append(mine, d)
			}
			t.add(mine, nil)
		}()
	}
	wg.Wait()
}
