package httpx

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// preBufferSize is how much body a response holds before it must choose
// between Content-Length (the handler finished in time) and chunked.
const preBufferSize = 4 << 10

// response is the http.ResponseWriter of the HTTP/1.1 loop. Its head goes
// into the connection's buffer when the framing is known: at once when
// the handler declared a Content-Length, else when the body outgrows the
// pre-buffer, on Flush, or when the handler returns. The head and a small
// body therefore leave in one write. It follows net/http's rules for
// framing, keep-alive, Date and bodiless statuses; unlike net/http it
// does not sniff a Content-Type: a proxy passes on what it got.
type response struct {
	c      *conn
	req    *http.Request
	header http.Header

	status      int
	wroteHeader bool // the status is chosen
	headWritten bool // the head is in the connection's buffer
	handlerDone bool
	hijacked    bool
	bodyLeft    bool // the connection closes with request body unread
	closeAfter  bool
	chunked     bool
	noBody      bool  // HEAD, or a status without a body
	declared    int64 // Content-Length the handler set, or -1
	written     int64 // body bytes the handler wrote
	pre         []byte

	body requestBody
	cont *continueReader
	// ctx and watchDue are guarded by the connection reader's lock: the
	// watch timer reads them from its own goroutine.
	ctx      *requestContext
	watchDue bool
}

// reset readies the response for req. It holds the reader's lock: a
// watch timer from the previous request may still be looking.
func (w *response) reset(req *http.Request, body io.ReadCloser) {
	clear(w.header)
	c, header, pre := w.c, w.header, w.pre[:0]
	c.cr.mu.Lock()
	*w = response{c: c, req: req, header: header, declared: -1, pre: pre}
	w.body = requestBody{r: body, c: c, done: body == nil || body == http.NoBody}
	c.cr.mu.Unlock()
}

// Header implements http.ResponseWriter.
func (w *response) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter.
func (w *response) WriteHeader(code int) {
	if w.hijacked || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic("httpx: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.writeInformational(code)
		return
	}
	w.wroteHeader, w.status = true, code
	if cl := w.header.Get("Content-Length"); cl != "" {
		if v, err := strconv.ParseInt(cl, 10, 64); err == nil && v >= 0 {
			w.declared = v
		} else {
			w.header.Del("Content-Length")
		}
	}
	w.noBody = w.req.Method == http.MethodHead || !BodyAllowed(code)
}

// writeInformational sends a 1xx answer at once (103 Early Hints, say).
func (w *response) writeInformational(code int) {
	bw := w.c.bw
	bw.WriteString(statusLine(code))
	WriteHeader(bw, w.header, nil)
	bw.WriteString("\r\n")
	_ = bw.Flush() // a failure shows on the final answer
}

// Write implements http.ResponseWriter.
func (w *response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !BodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.noBody {
		return len(p), nil // HEAD: counted, never sent
	}
	if !w.headWritten {
		if w.declared < 0 && len(w.pre)+len(p) <= preBufferSize {
			w.pre = append(w.pre, p...)
			return len(p), nil
		}
		w.writeHead()
	}
	if err := w.writeBody(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *response) writeBody(p []byte) error {
	bw := w.c.bw
	if len(w.pre) > 0 {
		pre := w.pre
		w.pre = w.pre[:0]
		if err := w.writeBody(pre); err != nil {
			return err
		}
	}
	if w.chunked {
		WriteChunk(bw, p)
	} else {
		bw.Write(p)
	}
	if w.c.broken.Load() {
		return net.ErrClosed
	}
	return nil
}

// Flush implements http.Flusher.
func (w *response) Flush() { _ = w.FlushError() }

// FlushError sends what is buffered (http.ResponseController uses it).
func (w *response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headWritten {
		w.writeHead()
	}
	if len(w.pre) > 0 {
		if err := w.writeBody(nil); err != nil {
			return err
		}
	}
	return w.c.bw.Flush()
}

// Hijack implements http.Hijacker (CONNECT tunnels use it).
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.wroteHeader {
		return nil, nil, errors.New("httpx: hijack after the response started")
	}
	w.hijacked = true
	w.c.stopTimer()
	w.c.state.Store(stateTaken)
	w.c.cr.setReadDeadline(time.Time{}) // the hijacker sets its own
	_ = w.c.nc.SetWriteDeadline(time.Time{})
	return w.c.nc, bufio.NewReadWriter(w.c.br, w.c.bw), nil
}

// finish completes the response after the handler returned.
func (w *response) finish() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headWritten {
		w.writeHead()
	}
	bw := w.c.bw
	if len(w.pre) > 0 {
		_ = w.writeBody(nil) // a failure marks the connection broken
	}
	if w.chunked {
		bw.WriteString("0\r\n")
		w.writeTrailers()
		bw.WriteString("\r\n")
	}
	if w.declared >= 0 && !w.noBody && w.written != w.declared {
		// Fewer bytes than announced: only closing tells the client.
		w.closeAfter = true
	}
	if bw.Flush() != nil {
		w.closeAfter = true
	}
}

// writeHead decides the framing and writes the status line and header
// fields into the connection's buffer.
func (w *response) writeHead() {
	w.headWritten = true
	h, req := w.header, w.req
	trailerFields := trailerKeys(h)
	_, announced := h["Trailer"]
	trailers := announced || len(trailerFields) > 0
	isHEAD := req.Method == http.MethodHead
	allowed := BodyAllowed(w.status)
	delete(h, "Transfer-Encoding") // framing is ours to choose

	if w.handlerDone && w.declared < 0 && !trailers && allowed && (!isHEAD || w.written > 0) {
		w.declared = w.written
		h["Content-Length"] = []string{strconv.FormatInt(w.written, 10)}
	}
	hasCL := w.declared >= 0

	// Keep-alive, as net/http decides it.
	wants10KeepAlive := !req.ProtoAtLeast(1, 1) && httpguts.HeaderValuesContainsToken(req.Header["Connection"], "keep-alive")
	if wants10KeepAlive && (isHEAD || hasCL || !allowed) {
		if _, set := h["Connection"]; !set {
			h["Connection"] = []string{"keep-alive"}
		}
	} else if !req.ProtoAtLeast(1, 1) || req.Close {
		w.closeAfter = true
	}
	if httpguts.HeaderValuesContainsToken(h["Connection"], "close") || w.c.srv.closing.Load() {
		w.closeAfter = true
	}
	if w.cont != nil && !w.cont.sawEOF {
		w.closeAfter = true // the rest of the body may or may not come
	}
	w.discardUnreadBody()

	if !allowed {
		for _, k := range suppressed(w.status) {
			delete(h, k)
		}
		hasCL = false
	}
	switch {
	case isHEAD || !allowed:
	case hasCL:
	case req.ProtoAtLeast(1, 1):
		w.chunked = true
	default:
		w.closeAfter = true // HTTP/1.0 without a length: the body ends with the connection
	}
	if w.closeAfter && req.ProtoAtLeast(1, 1) && !httpguts.HeaderValuesContainsToken(h["Connection"], "close") {
		h["Connection"] = []string{"close"}
	}

	bw := w.c.bw
	bw.WriteString(statusLine(w.status))
	WriteHeader(bw, h, trailerFields)
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if _, ok := h["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.Write(httpDate())
		bw.WriteString("\r\n")
	}
	bw.WriteString("\r\n")
}

// discardUnreadBody reads what the handler left of the request body, so
// that the connection can carry the next request; past 256 KiB it is not
// worth it and the connection closes instead. It runs before the head is
// written, as in net/http: some clients send the whole request before
// they read any of the response.
func (w *response) discardUnreadBody() {
	if w.closeAfter || w.body.done || w.body.eof || w.req.ContentLength == 0 {
		return
	}
	n, err := io.CopyN(io.Discard, w.body.r, maxPostHandlerRead+1)
	switch {
	case err == io.EOF:
	case err != nil, n > maxPostHandlerRead:
		w.closeAfter, w.bodyLeft = true, true
	}
}

func (w *response) writeTrailers() {
	bw := w.c.bw
	for k, vv := range w.header {
		name, ok := strings.CutPrefix(k, http.TrailerPrefix)
		if !ok || name == "" {
			continue
		}
		for _, v := range vv {
			WriteField(bw, http.CanonicalHeaderKey(name), v)
		}
	}
	for _, list := range w.header["Trailer"] {
		for name := range strings.SplitSeq(list, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			for _, v := range w.header[name] {
				WriteField(bw, name, v)
			}
		}
	}
}

// trailerKeys lists the TrailerPrefix fields, which never go in the head.
func trailerKeys(h http.Header) map[string]bool {
	var out map[string]bool
	for k := range h {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			if out == nil {
				out = map[string]bool{}
			}
			out[k] = true
		}
	}
	return out
}

// suppressed lists the fields a bodiless status must not carry, as net/http.
func suppressed(status int) []string {
	if status == http.StatusNotModified {
		return []string{"Content-Type", "Content-Length", "Transfer-Encoding"}
	}
	return []string{"Content-Length", "Transfer-Encoding"}
}

// statusLines holds "HTTP/1.1 200 OK\r\n" and the like, built once.
var statusLines = func() (out [600]string) {
	for code := range out {
		if text := http.StatusText(code); text != "" {
			out[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n"
		}
	}
	return out
}()

func statusLine(code int) string {
	if code >= 0 && code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	return "HTTP/1.1 " + strconv.Itoa(code) + " status code " + strconv.Itoa(code) + "\r\n"
}

// date holds the formatted Date of the current second.
type date struct {
	unix int64
	text []byte
}

var currentDate atomic.Pointer[date]

// httpDate returns the Date field value for now, formatted once a second.
func httpDate() []byte {
	now := time.Now()
	if d := currentDate.Load(); d != nil && d.unix == now.Unix() {
		return d.text
	}
	d := &date{unix: now.Unix(), text: now.UTC().AppendFormat(nil, http.TimeFormat)}
	currentDate.Store(d)
	return d.text
}

var (
	_ http.ResponseWriter = (*response)(nil)
	_ http.Flusher        = (*response)(nil)
	_ http.Hijacker       = (*response)(nil)
)
