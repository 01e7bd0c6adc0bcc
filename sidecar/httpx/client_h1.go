package httpx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/meshbridge/meshbridge/internal/quietconn"
)

// h1pool is an HTTP/1.1 client with keep-alive pools per address that
// writes the request and reads the response on the caller's goroutine.
// net/http's Transport hands every request to a writer and a reader
// goroutine per connection; at the rates a sidecar sees per connection,
// those hand-offs (and the thread wake-ups behind them) cost more than the
// proxying itself. This client does one thing, plain HTTP/1.1 to an
// address, and leaves h2c and everything else to net/http.
type h1pool struct {
	dialer      *net.Dialer
	maxIdle     int
	maxConns    int // per address, 0: no cap (see client_h1cap.go)
	idleTimeout time.Duration
	bufSize     int

	mu        sync.Mutex
	idle      map[string][]*h1conn
	lastSweep time.Time
	// open and waiting are kept when maxConns is set: the connections
	// counted against the cap, and the requests waiting for one.
	open    map[string]int
	waiting map[string][]chan struct{}
}

type h1conn struct {
	nc       net.Conn
	sent     int64 // bytes the connection took, over its life
	br       *bufio.Reader
	bw       *bufio.Writer
	addr     string
	lastUsed time.Time
	deadline time.Time // what the connection's deadline is set to
	abort    func()    // ends a blocked read or write at once
	probe    probe     // liveness check state (h1_alive_*.go)
	counted  bool      // it holds one of its address's maxConns
}

func newH1Pool(d *net.Dialer, maxIdle, maxConns int, idleTimeout time.Duration, bufSize int) *h1pool {
	return &h1pool{dialer: d, maxIdle: maxIdle, maxConns: maxConns, idleTimeout: idleTimeout, bufSize: bufSize,
		idle: map[string][]*h1conn{}, open: map[string]int{}, waiting: map[string][]chan struct{}{}}
}

// get returns an idle connection that is still open, or dials a new one;
// with a cap on connections, when the address has its share open, it
// waits for one to come back or close, up to ctx's end and deadline.
// A pooled connection holding bytes nobody asked for is refused; with
// peek, so is one that alive (a system call) finds closed, which requests
// that are sent again when a reused one turns out dead (replayable)
// skip. The connection's deadline is set to deadline (zero: none) before
// the check, so a deadline left from its last use cannot fail it.
func (p *h1pool) get(ctx context.Context, addr string, deadline time.Time, peek bool) (*h1conn, bool, error) {
	now := time.Now()
	for {
		p.mu.Lock()
		list := p.idle[addr]
		if len(list) == 0 {
			if p.maxConns == 0 {
				p.mu.Unlock()
				break
			}
			if p.open[addr] < p.maxConns {
				p.open[addr]++
				p.mu.Unlock()
				break
			}
			wake := p.waitLocked(addr)
			p.mu.Unlock()
			if err := p.await(ctx, addr, wake, deadline); err != nil {
				return nil, false, err
			}
			now = time.Now()
			continue
		}
		c := list[len(list)-1]
		p.idle[addr] = list[:len(list)-1]
		p.mu.Unlock()
		if now.Sub(c.lastUsed) < p.idleTimeout && c.setDeadline(deadline) == nil && c.br.Buffered() == 0 && (!peek || c.alive()) {
			return c, true, nil
		}
		p.discard(c)
	}
	c, err := p.dial(ctx, addr, deadline)
	if err != nil && p.maxConns > 0 {
		p.release(addr) // the slot taken for it
	}
	return c, false, err
}

// dial opens a new connection to addr with its deadline set.
func (p *h1pool) dial(ctx context.Context, addr string, deadline time.Time) (*h1conn, error) {
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	nc, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	nc = quietconn.Wrap(nc) // see the package: fewer thread wake-ups per request
	c := &h1conn{nc: nc, br: bufio.NewReaderSize(nc, p.bufSize), addr: addr, counted: p.maxConns > 0}
	c.bw = bufio.NewWriterSize(sentCounter{c}, p.bufSize)
	c.abort = func() { _ = nc.SetDeadline(LongAgo) } // built once per connection; closing follows
	if err := c.setDeadline(deadline); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// setDeadline bounds the connection's reads and writes, skipping the call
// when nothing changes (no deadline now or before: the common idle case).
func (c *h1conn) setDeadline(t time.Time) error {
	if t.Equal(c.deadline) {
		return nil
	}
	c.deadline = t
	return c.nc.SetDeadline(t)
}

// discard closes c, which leaves the pool for good.
func (p *h1pool) discard(c *h1conn) {
	c.nc.Close()
	p.leave(c)
}

// leave frees the slot c held under the cap, if it held one: c was closed
// or taken out of the pool (an upgrade).
func (p *h1pool) leave(c *h1conn) {
	if c.counted {
		c.counted = false
		p.release(c.addr)
	}
}

func (p *h1pool) put(c *h1conn) {
	now := time.Now()
	c.lastUsed = now
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle[c.addr]) >= p.maxIdle {
		c.nc.Close()
		p.leaveLocked(c)
		return
	}
	p.idle[c.addr] = append(p.idle[c.addr], c)
	if p.maxConns > 0 {
		p.wakeLocked(c.addr) // a request waiting under the cap may take it
	}
	if now.Sub(p.lastSweep) > p.idleTimeout/2 {
		p.lastSweep = now
		for addr, list := range p.idle {
			kept := list[:0]
			for _, ic := range list {
				if now.Sub(ic.lastUsed) < p.idleTimeout {
					kept = append(kept, ic)
				} else {
					ic.nc.Close()
					p.leaveLocked(ic)
				}
			}
			if len(kept) == 0 {
				delete(p.idle, addr)
			} else {
				p.idle[addr] = kept
			}
		}
	}
}

func (p *h1pool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, list := range p.idle {
		for _, c := range list {
			c.nc.Close()
			p.leaveLocked(c)
		}
	}
	p.idle = map[string][]*h1conn{}
}

// afterFuncer is a context that runs a function once it is done without
// deriving a context for it; the Server's HTTP/1.1 loop gives its
// requests one (requestContext). context.AfterFunc would allocate a derived context (and
// its parent's map of children) per request.
type afterFuncer interface {
	AfterFunc(f func()) (stop func() bool)
}

// afterFunc is context.AfterFunc, using the context's own AfterFunc when
// it has one.
func afterFunc(ctx context.Context, f func()) (stop func() bool) {
	if a, ok := ctx.(afterFuncer); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}

// A reused connection the peer had closed: errUnsent before any byte of
// the request left, errStale after it did and before any answer (the
// upstream may have acted on it).
var (
	errStale  = errors.New("keep-alive connection closed by the peer before answering")
	errUnsent = fmt.Errorf("%w, before the request was sent", errStale)
)

// sentCounter is what a connection's writer writes to: it counts the bytes
// the connection took, so a failed write can tell whether any left.
type sentCounter struct{ c *h1conn }

func (w sentCounter) Write(p []byte) (int, error) {
	n, err := w.c.nc.Write(p)
	w.c.sent += int64(n)
	return n, err
}

// retryStale reports whether req, which failed with err on a reused
// connection, may go again on a new one: its body (none) can be sent
// again, and either none of it reached the upstream or sending it twice
// is harmless (replayable). net/http's Transport follows the same rule.
func retryStale(req *http.Request, err error) bool {
	return errors.Is(err, errUnsent) && !hasBody(req) || errors.Is(err, errStale) && replayable(req)
}

func hasBody(req *http.Request) bool { return req.Body != nil && req.Body != http.NoBody }

// roundTrip sends req to req.URL.Host, the whole exchange (response body
// included) bounded by deadline when it is not zero. A request that found
// a reused connection dead before any answer is sent again on a new one
// when retryStale allows; other failures are returned as they are.
// A pooled connection is peeked at before reuse, so a dead one is seen
// before a request is sent on it, except for replayable requests: for
// them a dead connection costs a retry, not a system call per request.
func (p *h1pool) roundTrip(req *http.Request, deadline time.Time) (*http.Response, error) {
	ctx := req.Context()
	peek := !replayable(req)
	for {
		c, reused, err := p.get(ctx, req.URL.Host, deadline, peek)
		if err != nil {
			return nil, err
		}
		resp, err := p.exchange(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		p.discard(c)
		if reused && retryStale(req, err) && ctx.Err() == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
}

// replayable reports whether req may be sent again after a reused
// connection failed, whatever the upstream did with the first copy: no
// body and an idempotent method, or an idempotency key (net/http's rule).
func replayable(req *http.Request) bool {
	if hasBody(req) {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, "":
		return true
	}
	_, key := req.Header["Idempotency-Key"]
	_, xkey := req.Header["X-Idempotency-Key"]
	return key || xkey
}

func (p *h1pool) exchange(ctx context.Context, c *h1conn, req *http.Request) (*http.Response, error) {
	// Cancelling the request unblocks reads and writes at once. The
	// deadline it leaves marks the connection as not reusable.
	stop := afterFunc(ctx, c.abort)
	sent := c.sent
	if err := writeRequest(c.bw, req); err != nil {
		stop()
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			if c.sent == sent {
				return nil, errUnsent
			}
			return nil, errStale
		}
		return nil, err
	}
	var resp *http.Response
	for {
		r, err := readResponse(c.br, req)
		if err != nil {
			stop()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
				return nil, errStale
			}
			return nil, err
		}
		// Informational answers (100 Continue, 103 Early Hints) precede the real one.
		if r.StatusCode >= 100 && r.StatusCode < 200 && r.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		resp = r
		break
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		p.leave(c) // an upgraded connection is the caller's, outside the cap
		return switched(ctx, c, resp, stop)
	}
	reusable := !resp.Close && !req.Close
	resp.Body = &h1body{rc: resp.Body, c: c, pool: p, stop: stop, reusable: reusable}
	return resp, nil
}

// h1body returns the connection to the pool once the body was read to the
// end, and closes it when the reader gives up early.
type h1body struct {
	rc       io.ReadCloser
	c        *h1conn
	pool     *h1pool
	stop     func() bool
	reusable bool
	done     bool
}

func (b *h1body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *h1body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *h1body) finish(complete bool) {
	b.done = true
	// A cancellation that already fired left a deadline on the connection.
	fired := !b.stop()
	if complete && b.reusable && !fired {
		b.pool.put(b.c)
		return
	}
	b.pool.discard(b.c)
}
