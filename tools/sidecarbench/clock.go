package main

import "time"

// clock accounts to each target the time it had the load and the CPU its
// processes spent meanwhile: with several targets taking turns, each one
// is read at the start and end of its blocks. The reads run on a goroutine
// of their own, so that the pacer does not wait for /proc.
type clock struct {
	switches chan [2]*target // from, to; either may be nil
	done     chan struct{}
}

func startClock() *clock {
	c := &clock{switches: make(chan [2]*target, 64), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for sw := range c.switches {
			now := time.Now()
			if from := sw[0]; from != nil {
				from.busy += now.Sub(from.busySince)
				from.cpu += cpuSeconds(from.pids) - from.cpuAt
			}
			if to := sw[1]; to != nil {
				to.busySince, to.cpuAt = now, cpuSeconds(to.pids)
			}
		}
	}()
	return c
}

// hand tells the clock that the load moved from one target to another.
func (c *clock) hand(from, to *target) { c.switches <- [2]*target{from, to} }

// stop waits for the clock's last reads.
func (c *clock) stop() {
	close(c.switches)
	<-c.done
}
