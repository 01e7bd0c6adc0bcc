package proxy

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
)

// errBodyTimeout answers a caller whose declared body did not arrive
// within the listener's body read timeout.
var errBodyTimeout = errors.New("the request body did not arrive within limits.readBodyTimeout")

// timedBody is a request body under a read deadline (HTTP/2, where
// net/http enforces it): it notes that the deadline ended a read, so the
// caller can be answered 408 instead of a failure of the upstream's.
type timedBody struct {
	io.ReadCloser
	timedOut atomic.Bool
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut.Store(true)
	}
	return n, err
}

// expired reports whether the deadline cut the body short.
func (b *timedBody) expired() bool { return b.timedOut.Load() }

// expiringBody is a server request body that can tell whether its read
// deadline cut it short: *timedBody on HTTP/2, *requestBody on HTTP/1.1.
type expiringBody interface{ expired() bool }
