package main

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/internal/pace"
)

// openLoop sends qps requests a second from a schedule for warm+dur,
// recording those whose slot falls after the warm-up. With several
// targets, each gets the whole schedule for one block in turn, so that
// noise on the machine (other tenants of a VM) falls on all of them alike.
// A slot that finds all of its target's connections busy is dropped, not
// sent late (fortio's -uniform -nocatchup), and one the pacer reached
// more than an interval late (see package pace) is missed; both are
// counted apart.
func openLoop(qps, conns int, block, warm, dur time.Duration, targets []*target) {
	// The pacer's thread keeps its P while it sleeps in a system call, and
	// the runtime's monitor would hand that P to another thread on nearly
	// every sleep: a P to spare spares those wake-ups (a third fewer
	// context switches per request on 2 cores).
	procs := runtime.GOMAXPROCS(0)
	runtime.GOMAXPROCS(procs + 1)
	defer runtime.GOMAXPROCS(procs)
	start := time.Now()
	measureFrom, end := start.Add(warm), start.Add(warm+dur)
	paced := make([]*pacedConns, len(targets))
	for i, t := range targets {
		t.from = measureFrom
		paced[i] = startPaced(t, conns)
	}
	clk := startClock()
	var current *target // the target being measured, once past the warm-up
	pace.Run(start, time.Second/time.Duration(qps), end, func(slot time.Time, missed bool) {
		i := turn(start, slot, block, len(targets))
		t := targets[i]
		if t != current && !slot.Before(measureFrom) {
			clk.hand(current, t)
			current = t
		}
		switch {
		case missed:
			if current != nil {
				t.missed++
			}
		case !paced[i].send(slot):
			if current != nil {
				t.dropped++
			}
		}
	})
	clk.hand(current, nil)
	clk.stop()
	for _, p := range paced {
		p.stop(timeout)
	}
}

// closedLoop keeps conns requests in flight for dur. With several
// targets, each has them for one block in turn (the requests in flight
// when a block ends finish on their target); clk, when not nil, is handed
// the load at each block's start, on the same schedule as the open loop's.
func closedLoop(conns int, block, dur time.Duration, targets []*target, clk *clock) {
	ctx, stop := context.WithCancel(context.Background())
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([][]time.Duration, len(targets))
			conns := make([]*conn, len(targets))
			for i, t := range targets {
				conns[i] = newConn(t.req)
				defer conns[i].close()
			}
			for ctx.Err() == nil {
				i := turn(start, time.Now(), block, len(targets))
				d, err := conns[i].send()
				if err != nil {
					targets[i].errs.Add(1)
					continue
				}
				mine[i] = append(mine[i], d)
			}
			for i, t := range targets {
				t.add(mine[i], nil)
			}
		}()
	}
	var held *target
	pace.Run(start, block, start.Add(dur), func(slot time.Time, _ bool) {
		if clk != nil {
			t := targets[turn(start, slot, block, len(targets))]
			clk.hand(held, t)
			held = t
		}
	})
	if clk != nil {
		clk.hand(held, nil)
	}
	stop()
	wg.Wait()
}

// turn is the index of the target whose block holds at, when n targets
// take turns every block from start.
func turn(start, at time.Time, block time.Duration, n int) int {
	return int(at.Sub(start)/block) % n
}
