package httpx

import (
	"bufio"
	"net/http"
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
	head, ok := PeekHead(br)
	if !ok {
		return http.ReadResponse(br, req)
	}
	resp, n, ok := parseHead(head, req)
	if !ok {
		return http.ReadResponse(br, req)
	}
	_, _ = br.Discard(n) // peeked, so it cannot fail
	if resp.ContentLength > 0 && bodyExpected(resp, req) {
		resp.Body = NewFixedBody(br, resp.ContentLength, 0)
	} else {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// parseHead parses a CRLF-terminated head; ok is false for anything the
// fast path leaves to net/http. n is the head's length.
func parseHead(b []byte, req *http.Request) (resp *http.Response, n int, ok bool) {
	head := string(b)
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
	h, ok := ParseFields(rest[:len(rest)-2]) // the empty line ends the head
	if !ok {
		return nil, 0, false
	}
	resp = &http.Response{Status: status, StatusCode: statusCode, Proto: proto, ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: req}
	if !frame(resp, req) {
		return nil, 0, false
	}
	return resp, len(head), true
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
	FixPragma(h)
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
	case !BodyAllowed(resp.StatusCode):
		resp.ContentLength = 0
	case length < 0:
		return false // delimited by the connection's end: net/http's reader
	default:
		resp.ContentLength = length
	}
	return true
}

// bodyExpected reports whether resp has a body on the
func bodyExpected(resp *http.Response, req *http.Request) bool {
	return (req == nil || req.Method != http.MethodHead) && BodyAllowed(resp.StatusCode)
}
