package httpx

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// readRequest reads the next request from br. The common case, an
// HTTP/1.1 head that is all in the read buffer, ends its lines with CRLF
// and frames the body by Content-Length (or has none), is parsed here:
// the head becomes one string the request line and the header values are
// cut from, where net/http allocates per line. Anything else (chunked
// bodies, CONNECT, HTTP/1.0, folded lines, a head larger than the buffer,
// anything malformed) goes to http.ReadRequest, which also gives the
// errors. The fast path accepts exactly what net/http accepts and yields
// the same request (FuzzReadRequest checks it). checked reports that the
// fast path took it, which has already refused invalid field names and
// values; net/http's parser leaves that to its server. The request has
// ctx as its context: the fast path builds it with ctx at once, one
// allocation where WithContext on a built request takes two.
func readRequest(ctx context.Context, br *bufio.Reader) (req *http.Request, checked bool, err error) {
	head, ok := PeekHead(br)
	var r http.Request
	if ok {
		r, ok = parseRequestHead(head)
	}
	if !ok {
		if req, err = http.ReadRequest(br); err != nil {
			return nil, false, err
		}
		return req.WithContext(ctx), false, nil
	}
	req = r.WithContext(ctx)
	_, _ = br.Discard(len(head)) // peeked, so it cannot fail
	if req.ContentLength > 0 {
		// Close reads away a short unread rest, as net/http's server does,
		// so the connection can carry the next request.
		req.Body = NewFixedBody(br, req.ContentLength, maxPostHandlerRead)
	} else {
		req.Body = http.NoBody
	}
	return req, true, nil
}

// parseRequestHead parses a CRLF-terminated request head; false for
// anything the fast path leaves to net/http.
func parseRequestHead(b []byte) (http.Request, bool) {
	head := string(b)
	line, rest, _ := strings.Cut(head, "\r\n")
	method, target, ok1 := strings.Cut(line, " ")
	uri, proto, ok2 := strings.Cut(target, " ")
	if !ok1 || !ok2 || proto != "HTTP/1.1" || !validMethod(method) ||
		method == http.MethodConnect || method == "PRI" {
		return http.Request{}, false
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return http.Request{}, false
	}
	h, ok := ParseFields(rest[:len(rest)-2]) // the empty line ends the head
	if !ok {
		return http.Request{}, false
	}
	hosts := h["Host"]
	_, te := h["Transfer-Encoding"]
	_, tr := h["Trailer"]
	cl := h["Content-Length"]
	if len(hosts) > 1 || te || tr || len(cl) > 1 {
		return http.Request{}, false
	}
	var length int64
	if len(cl) == 1 {
		n, err := strconv.ParseUint(cl[0], 10, 63)
		if err != nil {
			return http.Request{}, false
		}
		length = int64(n)
	}
	host := u.Host
	if host == "" && len(hosts) == 1 {
		host = hosts[0]
	}
	delete(h, "Host")
	FixPragma(h)
	return http.Request{
		Method: method, URL: u, Proto: proto, ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: host, RequestURI: uri, ContentLength: length,
		Close: httpguts.HeaderValuesContainsToken(h["Connection"], "close"),
	}, true
}

// validMethod reports whether m is a token, as net/http requires.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !httpguts.IsTokenRune(rune(m[i])) {
			return false
		}
	}
	return true
}
