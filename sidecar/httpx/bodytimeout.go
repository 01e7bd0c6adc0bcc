package httpx

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// timedBody is a request body under a read deadline that net/http
// enforces (HTTP/2, and every request with ServerOptions.NetHTTP): it
// notes that the deadline ended a read, so the caller can be answered 408
// instead of a failure of the upstream's, and lifts the deadline once the
// body has ended: on HTTP/1.1 it is the connection's, under which
// net/http's watch for the client going away would otherwise fail and
// cancel the request.
type timedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	timedOut atomic.Bool
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		_ = b.rc.SetReadDeadline(time.Time{}) // it was set through rc, so this works too
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
	}
	return n, err
}

// Expired reports whether the deadline cut the body short.
func (b *timedBody) Expired() bool { return b.timedOut.Load() }

// ExpiringBody is a Server's request body of declared length: it tells
// whether ServerOptions.ReadBodyTimeout cut it short, so that the caller,
// who was late, can be answered 408 rather than a failure of whoever
// read the body (*timedBody on HTTP/2 and on net/http's server,
// *requestBody on the HTTP/1.1 loop).
type ExpiringBody interface{ Expired() bool }
