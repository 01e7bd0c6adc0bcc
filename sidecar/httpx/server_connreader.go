package httpx

import (
	"io"
	"math"
	"net"
	"sync"
	"time"
)

// connReader is what an HTTP/1.1 connection's bufio.Reader reads from. It
// bounds how much a request head may take, and can watch the connection
// in the background while a handler runs, so that a client that goes away
// cancels its request. It follows net/http's connReader; what differs is
// when the watch starts (see conn.watch).
type connReader struct {
	nc net.Conn

	mu       sync.Mutex
	cond     sync.Cond
	remain   int64 // bytes the head may still take
	hitLimit bool
	inRead   bool // a Read or the background read is in progress
	aborted  bool // the background read was ended on purpose
	hasByte  bool // the background read got a byte (a pipelined request)
	byteBuf  [1]byte
	// watched is the request the background read watches.
	watched *requestContext
	// deadline is the read deadline set on nc (zero: none). Once a head
	// is read (noDeadline), reads of the body end by bodyEnd (zero: no
	// deadline) and the watch's have none: the deadline left from the idle
	// wait is replaced only when the body or the watch reads from nc,
	// which most requests, their body already buffered, never do.
	deadline   time.Time
	noDeadline bool
	bodyEnd    time.Time
}

func newConnReader(nc net.Conn) *connReader {
	cr := &connReader{nc: nc, remain: math.MaxInt64}
	cr.cond.L = &cr.mu
	return cr
}

func (cr *connReader) setLimit(n int64) {
	cr.mu.Lock()
	cr.remain, cr.hitLimit = n, false
	cr.mu.Unlock()
}

// startBody lifts the head limit and the head's read deadline once a
// head is read; the body's reads from nc end by end (zero: no deadline).
func (cr *connReader) startBody(end time.Time) {
	cr.mu.Lock()
	cr.remain, cr.hitLimit, cr.noDeadline, cr.bodyEnd = math.MaxInt64, false, true, end
	cr.mu.Unlock()
}

// setReadDeadline sets nc's read deadline for what is read next.
func (cr *connReader) setReadDeadline(t time.Time) {
	cr.mu.Lock()
	cr.noDeadline = false
	cr.setDeadlineLocked(t)
	cr.mu.Unlock()
}

// keepDeadline makes reads end by end at the latest, keeping the deadline
// already set when it is no earlier than end-slack: the wait that finds it
// passed early sets end then (see conn.waitIdle).
func (cr *connReader) keepDeadline(end time.Time, slack time.Duration) {
	cr.mu.Lock()
	cr.noDeadline = false
	if d := cr.deadline; d.IsZero() || d.After(end) || d.Before(end.Add(-slack)) {
		cr.setDeadlineLocked(end)
	}
	cr.mu.Unlock()
}

func (cr *connReader) setDeadlineLocked(t time.Time) {
	if !t.Equal(cr.deadline) {
		_ = cr.nc.SetReadDeadline(t) // a failing deadline shows as a read error
		cr.deadline = t
	}
}

func (cr *connReader) limitHit() bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.hitLimit
}

func (cr *connReader) Read(p []byte) (int, error) {
	cr.mu.Lock()
	if cr.inRead {
		cr.mu.Unlock()
		panic("httpx: concurrent read on an HTTP/1.1 connection")
	}
	if cr.remain <= 0 {
		cr.hitLimit = true
		cr.mu.Unlock()
		return 0, io.EOF
	}
	if len(p) == 0 {
		cr.mu.Unlock()
		return 0, nil
	}
	if int64(len(p)) > cr.remain {
		p = p[:cr.remain]
	}
	if cr.hasByte {
		p[0] = cr.byteBuf[0]
		cr.hasByte = false
		cr.remain--
		cr.mu.Unlock()
		return 1, nil
	}
	if cr.noDeadline {
		cr.setDeadlineLocked(cr.bodyEnd)
	}
	cr.inRead = true
	cr.mu.Unlock()
	n, err := cr.nc.Read(p)
	cr.mu.Lock()
	cr.inRead = false
	cr.remain -= int64(n)
	cr.mu.Unlock()
	cr.cond.Broadcast()
	return n, err
}

// startWatchLocked reads one byte in the background: an error or EOF means the
// client went away (or broke the connection) and cancels the request; a
// byte is the start of a pipelined request and is kept for the next Read.
func (cr *connReader) startWatchLocked(ctx *requestContext) {
	if cr.inRead || cr.hasByte {
		return // already watching, or the next request is already here
	}
	if cr.noDeadline {
		cr.setDeadlineLocked(time.Time{})
	}
	cr.inRead, cr.aborted, cr.watched = true, false, ctx
	go cr.watch()
}

func (cr *connReader) watch() {
	n, err := cr.nc.Read(cr.byteBuf[:])
	cr.mu.Lock()
	if n == 1 {
		cr.hasByte = true
	}
	if err != nil && !cr.aborted {
		cr.watched.cancel() // the client is gone (or the connection broke)
	}
	cr.inRead, cr.aborted, cr.watched = false, false, nil
	cr.mu.Unlock()
	cr.cond.Broadcast()
}

// stopWatch ends a background read and waits for it to return.
func (cr *connReader) stopWatch() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !cr.inRead {
		return
	}
	cr.aborted = true
	_ = cr.nc.SetReadDeadline(LongAgo) // unblocks the read; nothing to do if it fails
	for cr.inRead {
		cr.cond.Wait()
	}
	_ = cr.nc.SetReadDeadline(time.Time{}) // the next request sets its own
	cr.deadline = time.Time{}
}
