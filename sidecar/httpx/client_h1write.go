package httpx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// framingHeaders are written from the request's fields, never copied from
// its header map (as net/http's Request.Write does).
var framingHeaders = map[string]bool{"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Trailer": true}

var (
	errInvalidHost = errors.New("transport: invalid Host header")
	errShortBody   = errors.New("transport: request body shorter than its Content-Length")
)

// writeRequest writes req to bw in HTTP/1.1 and flushes once: a body of
// known length goes in the same buffer as the head, so a small request
// leaves in one write instead of net/http's two (it flushes the head first
// whenever the body is not an in-memory reader, which a proxied body never
// is). The head therefore waits for the body, up to one buffer (like
// nginx's request buffering, but bounded). A body of unknown length is sent
// chunked, head first and each chunk flushed as it arrives, so streams
// are not held back. Unlike net/http, no User-Agent is added: a proxy
// passes on what the caller sent.
func writeRequest(bw *bufio.Writer, req *http.Request) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return errInvalidHost
	}
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	writeRequestTarget(bw, req)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	WriteHeader(bw, req.Header, framingHeaders)

	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	length := req.ContentLength
	if body == nil {
		length = 0
	}
	chunked := length < 0 || len(req.TransferEncoding) > 0 && req.TransferEncoding[0] == "chunked"
	switch {
	case chunked:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(req.Trailer) > 0 {
			WriteTrailerNames(bw, req.Trailer)
		}
	case length > 0 || methodExpectsBody(req.Method):
		bw.WriteString("Content-Length: ")
		WriteInt(bw, length)
		bw.WriteString("\r\n")
	}
	if req.Close {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("\r\n")
	var err error
	switch {
	case chunked:
		err = writeChunked(bw, body, req.Trailer)
	case length > 0:
		err = writeFixed(bw, body, length)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// writeRequestTarget writes the origin-form target (path and query), as
// URL.RequestURI would, without building the string.
func writeRequestTarget(bw *bufio.Writer, req *http.Request) {
	u := req.URL
	switch {
	case u.Opaque != "":
		if strings.HasPrefix(u.Opaque, "//") {
			bw.WriteString(u.Scheme)
			bw.WriteByte(':')
		}
		bw.WriteString(u.Opaque)
	default:
		p := u.EscapedPath()
		if p == "" {
			p = "/"
		}
		bw.WriteString(p)
	}
	if u.ForceQuery || u.RawQuery != "" {
		bw.WriteByte('?')
		bw.WriteString(u.RawQuery)
	}
}

// methodExpectsBody lists the methods that get "Content-Length: 0" when
// sent without a body, as net/http does.
func methodExpectsBody(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

// writeFixed copies exactly n body bytes, reading straight into the
// writer's free space (no intermediate buffer).
func writeFixed(bw *bufio.Writer, body io.Reader, n int64) error {
	for n > 0 {
		if bw.Available() == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		buf := bw.AvailableBuffer()
		buf = buf[:min(int64(cap(buf)), n)]
		m, err := body.Read(buf)
		if m > 0 {
			bw.Write(buf[:m]) // copies onto itself: the bytes are already in place
			n -= int64(m)
		}
		switch {
		case err == io.EOF && n > 0:
			return errShortBody
		case err == io.EOF:
			return nil
		case err != nil:
			return fmt.Errorf("transport: read request body: %w", err)
		}
	}
	return nil
}

// writeChunked sends a body of unknown length in chunks, flushing the head
// and then every chunk so that streamed data is not held back, and ends
// with the trailers (known only once the body is read).
func writeChunked(bw *bufio.Writer, body io.Reader, trailer http.Header) error {
	if err := bw.Flush(); err != nil {
		return err
	}
	if body != nil {
		bp := CopyBuffers.Get().(*[]byte)
		defer CopyBuffers.Put(bp)
		buf := *bp
		for {
			n, rerr := body.Read(buf)
			if n > 0 {
				WriteChunk(bw, buf[:n])
				if err := bw.Flush(); err != nil {
					return err
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return fmt.Errorf("transport: read request body: %w", rerr)
			}
		}
	}
	bw.WriteString("0\r\n")
	WriteHeader(bw, trailer, framingHeaders)
	bw.WriteString("\r\n")
	return nil
}
