package httpx

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// watchAfter is how long a request runs before its connection is watched
// for the client going away. Shorter requests finish before a watch would
// matter; longer ones (long polls, slow upstreams) get cancelled when
// their caller leaves, at most this much later than net/http would.
const watchAfter = 50 * time.Millisecond

// maxPostHandlerRead is how much of a request body the handler left
// unread is read and thrown away to keep the connection (net/http's value).
const maxPostHandlerRead = 256 << 10

// Connection states, for Shutdown.
const (
	stateNew int32 = iota
	stateActive
	stateIdle
	// stateTaken: hijacked by a handler that still runs (a tunnel). It
	// counts as in flight: Shutdown waits for it and Close closes it.
	stateTaken
	stateGone // closed, handed to HTTP/2, or hijacked and its handler done
)

// readBufferSize is the size of a connection's read buffer.
const readBufferSize = 4 << 10

var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4<<10) }}
)

// conn is one HTTP/1.1 connection. Its goroutine reads a request, runs the
// handler, writes the response, and goes on until the connection closes.
type conn struct {
	srv        *Server
	nc         net.Conn
	accepted   time.Time
	remoteAddr string
	state      atomic.Int32

	cr    *connReader
	br    *bufio.Reader
	bw    *bufio.Writer
	watch *time.Timer
	res   response // reused for every request on the connection

	lastMethod string
	broken     atomic.Bool // a write failed: the client is gone

	// handler, when set, serves this connection's requests in place of
	// the server's (the inside of a CONNECT tunnel to a mesh service).
	handler http.Handler
}

// handlerOf is the handler for c's requests.
func (c *conn) handlerOf() http.Handler {
	if c.handler != nil {
		return c.handler
	}
	return c.srv.handler
}

// closeIfIdle closes the connection when it waits for a request (or never
// sent one in five seconds), as net/http's Shutdown does.
func (c *conn) closeIfIdle(now time.Time) bool {
	st := c.state.Load()
	if st == stateIdle || st == stateNew && now.Sub(c.accepted) > 5*time.Second {
		if c.state.CompareAndSwap(st, stateGone) {
			_ = c.nc.Close() // its goroutine sees the error and ends
			return true
		}
	}
	return st == stateGone
}

func (c *conn) serve() {
	c.remoteAddr = c.nc.RemoteAddr().String()
	c.cr = newConnReader(c.nc)
	c.br = readerPool.Get().(*bufio.Reader)
	c.br.Reset(c.cr)
	keep := false // set when a hijacker or the HTTP/2 server owns the connection
	defer func() {
		if p := recover(); p != nil && p != http.ErrAbortHandler {
			c.srv.logger.Error("panic serving a request", "remote", c.remoteAddr, "panic", p, "stack", string(debug.Stack()))
		}
		// A response cut short by a panic is not flushed: closing is how
		// the client learns it is incomplete.
		c.state.Store(stateGone)
		c.srv.forget(c)
		if c.watch != nil {
			c.watch.Stop()
		}
		if !keep {
			_ = c.nc.Close() // done with it
			c.release()
		}
	}()

	c.cr.setReadDeadline(time.Now().Add(c.srv.opts.ReadHeaderTimeout))
	c.cr.setLimit(c.headLimit()) // the preface peek counts towards the first head
	if h2, err := c.isHTTP2(); err != nil {
		return
	} else if h2 {
		if c.state.CompareAndSwap(stateNew, stateGone) {
			keep = true                                                   // the HTTP/2 server owns the connection and the reader now
			c.srv.serveH2(&BufferedConn{Conn: c.nc, Br: c.br}, c.handler) // replays the peeked preface
		}
		return
	}
	c.bw = writerPool.Get().(*bufio.Writer)
	c.bw.Reset(connWriter{c})
	c.res.c = c
	c.res.header = http.Header{}
	for {
		req, ctx, err := c.readRequest()
		if err != nil {
			c.answerBadRequest(err)
			return
		}
		if !c.serveRequest(req, ctx) {
			keep = c.res.hijacked
			if c.res.bodyLeft {
				c.closeWriteAndWait()
			}
			return
		}
		if c.srv.closing.Load() {
			return
		}
		if !c.state.CompareAndSwap(stateActive, stateIdle) {
			return // closed by Shutdown
		}
		// Wait for the next request without starting the header clock,
		// as net/http does: only the idle timeout applies while nothing
		// comes.
		if c.br.Buffered() == 0 && !c.waitIdle() {
			return
		}
		// The header clock matters only for a head still coming; most
		// arrive whole, and setting a deadline is not free.
		if b, _ := c.br.Peek(c.br.Buffered()); !bytes.Contains(b, []byte("\r\n\r\n")) {
			c.cr.setReadDeadline(time.Now().Add(c.srv.opts.ReadHeaderTimeout))
		}
	}
}

// waitIdle waits up to IdleTimeout for the next request to start and
// reports whether it did. The deadline of an earlier wait is kept while it
// ends at most a quarter of the timeout early: re-arming the connection's
// timer for every request is not free. A wait that a kept deadline ends
// too early goes on until the full timeout.
func (c *conn) waitIdle() bool {
	idle := c.srv.opts.IdleTimeout
	end := time.Now().Add(idle)
	c.cr.keepDeadline(end, idle/4)
	for {
		_, err := c.br.Peek(1)
		if err == nil {
			return true
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || !time.Now().Before(end) {
			return false
		}
		c.cr.setReadDeadline(end)
	}
}

// isHTTP2 reports whether the connection opened with the HTTP/2 preface.
// No HTTP/1 request starts with "PRI", and every one has three bytes
// before it waits for an answer, so peeking three never blocks a client.
func (c *conn) isHTTP2() (bool, error) {
	b, err := c.br.Peek(3)
	if err != nil {
		return false, err
	}
	if string(b) != "PRI" {
		return false, nil
	}
	b, err = c.br.Peek(len(h2Preface))
	if err != nil {
		return false, err
	}
	return string(b) == h2Preface, nil
}

func (c *conn) release() {
	if c.br != nil {
		c.br.Reset(nil)
		readerPool.Put(c.br)
		c.br = nil
	}
	if c.bw != nil {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
	}
}

// errTooLarge is a request head beyond MaxHeaderBytes (and the request
// line's room), or header fields beyond it (headerListSize).
var errTooLarge = errors.New("request head too large")

// statusError is a request refused with a status other than 400.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return e.text }

// headLimit is how much a request head may take: MaxHeaderBytes and
// net/http's slack for the request line.
func (c *conn) headLimit() int64 { return int64(c.srv.opts.MaxHeaderBytes) + 4096 }

func (c *conn) readRequest() (*http.Request, *requestContext, error) {
	if c.lastMethod != "" {
		c.cr.setLimit(c.headLimit())
	}
	if c.lastMethod == http.MethodPost {
		// RFC 9112 2.2 tolerance for old clients that end a POST body with CRLF.
		peek, _ := c.br.Peek(4) // ReadRequest reports the error, if any
		_, _ = c.br.Discard(leadingCRLF(peek))
	}
	ctx := &requestContext{srv: c.srv}
	req, checked, err := readRequest(ctx, c.br)
	if c.br.Buffered() > 0 || err == nil {
		c.state.CompareAndSwap(stateIdle, stateActive)
		c.state.CompareAndSwap(stateNew, stateActive)
	}
	if err != nil {
		if c.cr.limitHit() {
			return nil, nil, errTooLarge
		}
		return nil, nil, err
	}
	// A body of declared length must arrive within ReadBodyTimeout; one of
	// unknown length is a stream and has no deadline.
	var bodyEnd time.Time
	if req.ContentLength > 0 {
		bodyEnd = time.Now().Add(c.srv.opts.ReadBodyTimeout)
	}
	c.cr.startBody(bodyEnd)
	c.lastMethod = req.Method
	if req.ProtoMajor != 1 {
		return nil, nil, statusError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	if req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != http.MethodConnect {
		return nil, nil, statusError{http.StatusBadRequest, "missing required Host header"}
	}
	if req.Host != "" && !httpguts.ValidHostHeader(req.Host) {
		return nil, nil, statusError{http.StatusBadRequest, "malformed Host header"}
	}
	if !checked {
		if err := validFields(req.Header); err != nil {
			return nil, nil, err
		}
	}
	// A head the fast path parsed fits the read buffer, which bounds its
	// header list below the usual limits: the count is skipped there.
	if (!checked || c.srv.opts.MaxHeaderBytes < fastHeadMaxList) && headerListSize(req) > c.srv.opts.MaxHeaderBytes {
		return nil, nil, errTooLarge
	}
	req.RemoteAddr = c.remoteAddr
	return req, ctx, nil
}

// headerListSize is the size of req's header fields, Host included, as
// HTTP/2 counts a header list (RFC 9113 6.5.2): each field's name and
// value and 32 bytes. Counting the same way on both protocols makes one
// limit mean the same, and bounds the number of fields, each of which
// costs memory however short it is.
func headerListSize(req *http.Request) int {
	n := len("Host") + len(req.Host) + 32
	for k, vv := range req.Header {
		for _, v := range vv {
			n += len(k) + len(v) + 32
		}
	}
	return n
}

// fastHeadMaxList bounds the header list of a head that fits the read
// buffer: a field line takes at least 4 bytes there ("a:" and CRLF) and
// 33 in the list (name, empty value, 32).
const fastHeadMaxList = readBufferSize * 33 / 4

// validFields refuses what net/http's server refuses: invalid field names
// and values.
func validFields(h http.Header) error {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return statusError{http.StatusBadRequest, "invalid header name"}
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return statusError{http.StatusBadRequest, "invalid header value"}
			}
		}
	}
	return nil
}

func leadingCRLF(b []byte) int {
	n := 0
	for _, c := range b {
		if c != '\r' && c != '\n' {
			break
		}
		n++
	}
	return n
}

// answerBadRequest tells the client why its request was refused, as
// net/http does, and the connection closes. Read errors get no answer.
func (c *conn) answerBadRequest(err error) {
	const tail = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
	var se statusError
	switch {
	case errors.Is(err, errTooLarge):
		const msg = "431 Request Header Fields Too Large"
		c.writeRaw("HTTP/1.1 " + msg + tail + msg)
		c.closeWriteAndWait()
	case isUnsupportedTE(err):
		c.writeRaw("HTTP/1.1 501 Not Implemented" + tail + "Unsupported transfer encoding")
	case isReadError(err):
		// Nothing to answer: the client went away or timed out.
	case errors.As(err, &se):
		line := strconv.Itoa(se.code) + " " + http.StatusText(se.code) + ": " + se.text
		c.writeRaw("HTTP/1.1 " + line + tail + line)
	default:
		const msg = "400 Bad Request"
		c.writeRaw("HTTP/1.1 " + msg + tail + msg)
	}
}

// closeWriteAndWait ends our side and reads what the client still sends
// for a moment, so that closing does not reset the connection (and lose
// the answer) while the client is writing a request we will not read.
func (c *conn) closeWriteAndWait() {
	_ = CloseWrite(c.nc) // best effort: the close follows anyway
	_ = c.nc.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, _ = io.Copy(io.Discard, c.nc) // ends at the client's close or the deadline
}

func (c *conn) writeRaw(s string) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second)) // best effort to a client we are dropping
	_, _ = io.WriteString(c.nc, s)
}

func isUnsupportedTE(err error) bool {
	return strings.Contains(err.Error(), "unsupported transfer encoding")
}

// isReadError reports errors that mean the connection, not the request,
// failed: EOF, timeouts, resets.
func isReadError(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) && ne.Timeout() || errors.As(err, &oe) && oe.Op == "read"
}

// serveRequest runs the handler for req and finishes its response; it
// reports whether the connection may carry another request.
func (c *conn) serveRequest(req *http.Request, ctx *requestContext) bool {
	defer ctx.cancel()
	w := &c.res
	body := req.Body
	var cont *continueReader
	if expect := req.Header.Get("Expect"); expect != "" {
		if !strings.EqualFold(expect, "100-continue") {
			w.reset(req, nil)
			w.closeAfter = true
			w.WriteHeader(http.StatusExpectationFailed)
			w.finish()
			return false
		}
		if req.ProtoAtLeast(1, 1) && req.ContentLength != 0 {
			cont = &continueReader{r: body, c: c}
			body = cont
		}
	}
	w.reset(req, body)
	w.cont = cont
	if !w.body.done {
		req.Body = &w.body
	}
	c.startTimer(ctx)

	if req.Method == http.MethodOptions && req.RequestURI == "*" {
		w.header.Set("Content-Length", "0") // OPTIONS * asks about the server, as net/http answers it
		w.WriteHeader(http.StatusOK)
	} else {
		c.handlerOf().ServeHTTP(w, req)
	}
	c.stopTimer()
	if w.hijacked {
		return false
	}
	w.finish()
	return !w.closeAfter && !c.broken.Load()
}

// startTimer arms the watch for this request: if it is still running
// after watchAfter and its body was read, the connection is watched.
func (c *conn) startTimer(ctx *requestContext) {
	if c.watch == nil {
		c.watch = time.AfterFunc(time.Hour, c.watchDue)
		c.watch.Stop()
	}
	c.cr.mu.Lock()
	c.res.ctx, c.res.watchDue = ctx, false
	c.cr.mu.Unlock()
	c.watch.Reset(c.srv.opts.watchAfter)
}

// watchDue runs on the timer's goroutine when a request ran watchAfter.
// The watch starts under the same lock that stopTimer clears the request
// under, so it never starts after its request ended (its read would then
// collide with the next request's).
func (c *conn) watchDue() {
	c.cr.mu.Lock()
	defer c.cr.mu.Unlock()
	if c.res.ctx == nil {
		return // the request ended meanwhile
	}
	c.res.watchDue = true
	if c.res.body.done {
		c.cr.startWatchLocked(c.res.ctx)
	}
}

// bodyDone is called when the handler read the request body to its end.
func (c *conn) bodyDone() {
	c.cr.mu.Lock()
	defer c.cr.mu.Unlock()
	c.res.body.done = true
	c.cr.bodyEnd = time.Time{} // what is read next is not the body
	if c.res.watchDue && c.res.ctx != nil {
		c.cr.startWatchLocked(c.res.ctx)
	}
}

func (c *conn) stopTimer() {
	c.watch.Stop()
	c.cr.mu.Lock()
	c.res.ctx, c.res.watchDue = nil, false
	c.cr.mu.Unlock()
	c.cr.stopWatch()
}

// connWriter is what the connection's bufio.Writer writes to: a failed
// write means the client is gone, which cancels its request.
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	n, err := w.c.nc.Write(p)
	if err != nil && w.c.broken.CompareAndSwap(false, true) {
		w.c.cr.mu.Lock()
		ctx := w.c.res.ctx
		w.c.cr.mu.Unlock()
		if ctx != nil {
			ctx.cancel()
		}
	}
	return n, err
}

// requestBody passes reads through and tells the connection when the
// body ended, which may start the watch, or when its read deadline
// (ReadBodyTimeout) cut it short.
type requestBody struct {
	r    io.ReadCloser
	c    *conn
	done bool // guarded by c.cr.mu once the timer is armed
	eof  bool // seen by the handler's goroutine only
	// timedOut is set by the goroutine reading the body, which may not be
	// the handler's (an HTTP/2 upstream request reads it on its own).
	timedOut atomic.Bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	switch {
	case err == io.EOF && !b.eof:
		b.eof = true
		b.c.bodyDone()
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
	}
	return n, err
}

// Expired reports whether the body read deadline cut the body short.
func (b *requestBody) Expired() bool { return b.timedOut.Load() }

func (b *requestBody) Close() error { return b.r.Close() }

// continueReader sends "100 Continue" before the first read of a body
// whose client asked for it.
type continueReader struct {
	r      io.ReadCloser
	c      *conn
	sent   bool
	sawEOF bool
	closed bool
}

func (cr *continueReader) Read(p []byte) (int, error) {
	if cr.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if !cr.sent && !cr.c.res.wroteHeader {
		cr.sent = true
		cr.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		if err := cr.c.bw.Flush(); err != nil {
			return 0, err
		}
	}
	n, err := cr.r.Read(p)
	if err == io.EOF {
		cr.sawEOF = true
	}
	return n, err
}

func (cr *continueReader) Close() error {
	cr.closed = true
	return cr.r.Close()
}
