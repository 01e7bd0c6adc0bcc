package pace

import (
	"sync"
	"time"
)

// Ticker is time.Ticker with the schedule of Run: its ticks come within
// tens of microseconds of their times, from a thread of its own. A tick
// the reader is not ready for is dropped, as time.Ticker drops it.
type Ticker struct {
	C    <-chan time.Time
	c    chan time.Time
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewTicker starts a ticker whose first tick is one interval from now.
func NewTicker(interval time.Duration) *Ticker {
	c := make(chan time.Time, 1)
	t := &Ticker{C: c, c: c, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		run(time.Now().Add(interval), interval, func(slot time.Time, _ bool) bool {
			select {
			case <-t.stop:
				return false
			default:
			}
			select {
			case c <- slot:
			default: // the reader is behind
			}
			return true
		})
	}()
	return t
}

// Stop ends the ticks: none comes after it returns. It waits for the
// ticker's thread to see it, up to an interval.
func (t *Ticker) Stop() {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
		select {
		case <-t.c: // a tick nobody read
		default:
		}
	})
}
