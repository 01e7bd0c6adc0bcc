package httpx

import (
	"bufio"
	"io"
	"net/http"
)

// FixedBody reads a body of known length from a connection's reader, as
// net/http's body does: EOF comes with the last bytes, a connection that
// ends early gives io.ErrUnexpectedEOF, reads after Close give
// http.ErrBodyReadAfterClose.
type FixedBody struct {
	br     *bufio.Reader
	remain int64
	// drain is how much of an unread rest Close reads away (a server's
	// request body, so the connection can carry the next request).
	drain  int64
	closed bool
}

// NewFixedBody returns a reader of the next n bytes of br; Close reads
// and drops up to drain unread bytes.
func NewFixedBody(br *bufio.Reader, n, drain int64) *FixedBody {
	return &FixedBody{br: br, remain: n, drain: drain}
}

func (b *FixedBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
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

// Close implements io.Closer.
func (b *FixedBody) Close() error {
	if !b.closed && b.remain > 0 && b.remain <= b.drain {
		_, _ = io.CopyN(io.Discard, b.br, b.remain) // a short rest shows as not at EOF
	}
	b.closed = true
	return nil
}

// Done reports whether the whole body was read.
func (b *FixedBody) Done() bool { return b.remain <= 0 }

// BodyAllowed reports whether a response with this status may have a
// body (RFC 9110 6.4.1).
func BodyAllowed(status int) bool {
	return (status < 100 || status > 199) && status != http.StatusNoContent && status != http.StatusNotModified
}
