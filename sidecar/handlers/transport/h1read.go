package transport

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// readResponse reads the response to req from br. The common case, an
// HTTP/1.1 head that is all in the read buffer, ends its lines with CRLF
// and frames the body by Content-Length (or has none), is parsed here
// with a handful of allocations: the head becomes one string that the
// status and the header values are cut from. Anything else (chunked or
// close-delimited bodies, folded lines, HTTP/1.0, a head larger than the
// buffer, anything malformed) goes to net/http's http.ReadResponse, which
// also gives the errors. The fast path accepts exactly what net/http
// accepts and yields the same response (FuzzReadResponse checks it).
func readResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	head, ok := peekHead(br)
	if !ok {
		return http.ReadResponse(br, req)
	}
	resp, n, ok := parseHead(head, req)
	if !ok {
		return http.ReadResponse(br, req)
	}
	_, _ = br.Discard(n) // peeked, so it cannot fail
	if resp.ContentLength > 0 && bodyExpected(resp, req) {
		resp.Body = &fixedBody{br: br, remain: resp.ContentLength}
	} else {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// peekHead returns the response head, up to and including the empty
// line, without consuming it; false when it does not end with CRLF CRLF
// within the buffer (or the connection failed: net/http reports that).
func peekHead(br *bufio.Reader) ([]byte, bool) {
	from := 0
	for n := 1; ; {
		b, err := br.Peek(n)
		if err != nil {
			return nil, false
		}
		b, _ = br.Peek(br.Buffered()) // everything already here
		// A head ends at the first empty line. A bare LF anywhere is left
		// to net/http (textproto accepts LF line endings).
		if i := bytes.Index(b[from:], []byte("\n\r\n")); i >= 0 {
			end := from + i + 3
			if bytes.Count(b[:end], []byte("\n")) != bytes.Count(b[:end], []byte("\r\n")) {
				return nil, false
			}
			return b[:end], true
		}
		if bytes.Contains(b[max(from-1, 0):], []byte("\n\n")) || len(b) == br.Size() {
			return nil, false
		}
		from = max(len(b)-2, 0)
		n = len(b) + 1
	}
}

// parseHead parses a CRLF-terminated head; ok is false for anything the
// fast path leaves to net/http. n is the head's length.
func parseHead(b []byte, req *http.Request) (resp *http.Response, n int, ok bool) {
	head := string(b)
	n = len(head)
	line, rest, _ := strings.Cut(head, "\r\n")
	proto, status, found := strings.Cut(line, " ")
	if !found || proto != "HTTP/1.1" {
		return nil, 0, false
	}
	status = strings.TrimLeft(status, " ")
	code, _, _ := strings.Cut(status, " ")
	if len(code) != 3 {
		return nil, 0, false
	}
	statusCode, err := strconv.Atoi(code)
	if err != nil || statusCode < 0 {
		return nil, 0, false
	}
	resp = &http.Response{Status: status, StatusCode: statusCode, Proto: proto, ProtoMajor: 1, ProtoMinor: 1, Request: req}

	lines := strings.Count(rest, "\r\n") - 1 // the last one ends the head
	h := make(http.Header, lines)
	values := make([]string, lines)
	for i := 0; i < lines; i++ {
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			return nil, 0, false // folded or empty: net/http's rules
		}
		k, v, found := strings.Cut(line, ":")
		if !found || !httpguts.ValidHeaderFieldName(k) || !validValue(v) {
			return nil, 0, false
		}
		key := textproto.CanonicalMIMEHeaderKey(k)
		v = strings.Trim(v, " \t")
		if vv := h[key]; vv != nil {
			h[key] = append(vv, v)
		} else {
			values[i] = v
			h[key] = values[i : i+1 : i+1]
		}
	}
	resp.Header = h
	if !frame(resp, req) {
		return nil, 0, false
	}
	return resp, n, true
}

// frame applies net/http's framing rules for the cases the fast path
// takes: no Transfer-Encoding, no Trailer, and a body either absent or
// of one Content-Length.
func frame(resp *http.Response, req *http.Request) bool {
	h := resp.Header
	if _, te := h["Transfer-Encoding"]; te {
		return false
	}
	if _, tr := h["Trailer"]; tr {
		return false
	}
	if hp := h["Pragma"]; len(hp) > 0 && hp[0] == "no-cache" {
		if _, cc := h["Cache-Control"]; !cc {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
	if httpguts.HeaderValuesContainsToken(h["Connection"], "close") {
		resp.Close = true
		delete(h, "Connection")
	}
	cl := h["Content-Length"]
	if len(cl) > 1 {
		return false // duplicates: net/http merges or refuses them
	}
	length := int64(-1)
	if len(cl) == 1 {
		n, err := strconv.ParseUint(cl[0], 10, 63)
		if err != nil {
			return false
		}
		length = int64(n)
	}
	switch {
	case req != nil && req.Method == http.MethodHead:
		resp.ContentLength = length
	case !bodyAllowed(resp.StatusCode):
		resp.ContentLength = 0
	case length < 0:
		return false // delimited by the connection's end: net/http's reader
	default:
		resp.ContentLength = length
	}
	return true
}

// bodyExpected reports whether resp has a body on the wire.
func bodyExpected(resp *http.Response, req *http.Request) bool {
	return (req == nil || req.Method != http.MethodHead) && bodyAllowed(resp.StatusCode)
}

// bodyAllowed reports whether a response with this status may have a body.
func bodyAllowed(status int) bool {
	return status/100 != 1 && status != http.StatusNoContent && status != http.StatusNotModified
}

// validValue reports whether a header value has only bytes textproto
// accepts: visible characters, space, tab and obs-text.
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// fixedBody reads a body of known length, as net/http's body does: EOF
// comes with the last bytes, and a connection that ends early gives
// io.ErrUnexpectedEOF.
type fixedBody struct {
	br     *bufio.Reader
	remain int64
}

func (b *fixedBody) Read(p []byte) (int, error) {
	if b.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.br.Read(p)
	b.remain -= int64(n)
	switch {
	case err == io.EOF && b.remain > 0:
		err = io.ErrUnexpectedEOF
	case err == nil && b.remain == 0:
		err = io.EOF
	}
	return n, err
}

func (b *fixedBody) Close() error { return nil }
