package main

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The open loop's connections. The pacer writes each request itself, from
// its own thread, on an idle connection; the connection's reader
// goroutine, already waiting in the network poller, reads the answer. So
// a request wakes one goroutine of the load generator, where handing it to
// a worker that then waits for the answer wakes two (and net/http's
// Transport, with its own reader and writer goroutines, four): the
// generator shares the CPUs with what it measures, and its wake-ups
// showed in the latencies it reported (docs/benchmarks.md).

// pacedConn is one connection of the open loop.
type pacedConn struct {
	c  net.Conn
	br *bufio.Reader

	// mu orders the pacer's hand-over of a request with the reader
	// finding the connection broken: a request is either handed over on
	// a live connection, and its reader accounts for it, or not at all.
	mu     sync.Mutex
	broken bool
	sent   chan sent // cap 1: the request in flight
}

// sent is a request in flight: its slot in the schedule and when it left.
type sent struct{ slot, at time.Time }

// pacedConns is a target's open-loop connections.
type pacedConns struct {
	t    *target
	idle chan *pacedConn // broken ones are skipped when taken

	inflight sync.WaitGroup // requests handed over and not yet accounted for
	readers  sync.WaitGroup
	stopping atomic.Bool
	done     chan struct{} // closed by stop

	mu   sync.Mutex
	live map[*pacedConn]bool
}

// startPaced dials n connections to t, each with its reader.
func startPaced(t *target, n int) *pacedConns {
	p := &pacedConns{t: t, idle: make(chan *pacedConn, 2*n), live: map[*pacedConn]bool{}, done: make(chan struct{})}
	for range n {
		p.readers.Add(1)
		go p.read()
	}
	return p
}

// send writes t's request on an idle connection for slot, and reports
// false when every connection is busy. Only the pacer calls it.
func (p *pacedConns) send(slot time.Time) bool {
	for {
		var pc *pacedConn
		select {
		case pc = <-p.idle:
		default:
			return false
		}
		pc.mu.Lock()
		if pc.broken {
			pc.mu.Unlock()
			continue
		}
		p.inflight.Add(1)
		pc.sent <- sent{slot: slot, at: time.Now()} // the reader accounts for it, answered or not
		pc.mu.Unlock()
		if _, err := pc.c.Write(p.t.req.wire); err != nil {
			_ = pc.c.Close() // its reader fails, and counts the request as an error
		}
		return true
	}
}

// read keeps one connection: it dials, offers the connection to the
// pacer and reads the answers, until stop.
func (p *pacedConns) read() {
	defer p.readers.Done()
	var lats, late []time.Duration
	defer func() { p.t.add(lats, late) }()
	for !p.stopping.Load() {
		pc := p.dial()
		if pc == nil {
			return
		}
		if !p.offer(pc) {
			return
		}
		for {
			closing, err := readAnswer(pc.br, p.t.req.head)
			if err != nil {
				pc.mu.Lock()
				pc.broken = true
				pc.mu.Unlock()
			}
			var s sent
			var answered bool
			select {
			case s = <-pc.sent:
				answered = true
			default: // the connection failed while idle
			}
			if answered {
				if !s.slot.Before(p.t.from) {
					late = append(late, s.at.Sub(s.slot))
					if err != nil {
						p.t.errs.Add(1)
					} else {
						lats = append(lats, time.Since(s.at))
					}
				}
				p.inflight.Done()
			}
			if err != nil || closing {
				p.drop(pc)
				break
			}
			if !p.offer(pc) {
				return
			}
		}
	}
}

// offer puts pc among the idle connections; false when stopped first. The
// room for two per connection is enough unless connections keep failing
// while idle faster than the pacer skips them.
func (p *pacedConns) offer(pc *pacedConn) bool {
	select {
	case p.idle <- pc:
		return true
	case <-p.done:
		p.drop(pc)
		return false
	}
}

// dial makes a connection, retrying every 100 ms until stop; nil when
// stopped. Failures are not counted: the slots that find no connection
// are (dropped).
func (p *pacedConns) dial() *pacedConn {
	for !p.stopping.Load() {
		c, err := net.DialTimeout("tcp", p.t.req.addr, timeout)
		if err == nil {
			pc := &pacedConn{c: c, br: bufio.NewReaderSize(c, 16<<10), sent: make(chan sent, 1)}
			p.mu.Lock()
			p.live[pc] = true
			p.mu.Unlock()
			if p.stopping.Load() { // stop may have missed it
				p.drop(pc)
				return nil
			}
			return pc
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-p.done:
		}
	}
	return nil
}

func (p *pacedConns) drop(pc *pacedConn) {
	p.mu.Lock()
	delete(p.live, pc)
	p.mu.Unlock()
	_ = pc.c.Close() // done with it
}

// stop waits up to wait for the answers in flight (one still missing then
// counts as an error), then closes the connections and waits for their
// readers.
func (p *pacedConns) stop(wait time.Duration) {
	done := make(chan struct{})
	go func() {
		p.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
	}
	p.stopping.Store(true)
	close(p.done)
	p.mu.Lock()
	for pc := range p.live {
		_ = pc.c.Close() // its reader fails and ends
	}
	p.mu.Unlock()
	p.readers.Wait()
}
