package serve

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// BodyTimeoutError is what reading a request body returns when the body
// did not arrive within Timeouts.ReadBody. Front-ends answer it with 408,
// as they answer *http.MaxBytesError with 413.
type BodyTimeoutError struct {
	Timeout time.Duration
}

func (e *BodyTimeoutError) Error() string {
	return fmt.Sprintf("request body not received within %v", e.Timeout)
}

// BoundBodyTime bounds the time to read each request body to d, counted
// from the moment h starts. It sets a read deadline on the connection for
// requests that have a body, and lifts it when the body has been read to
// its end.
//
// http.Server's ReadTimeout is not used for this: it counts the header's
// time against the body's, and it leaves no way to tell a slow body from a
// broken one. Requests without a body get no deadline at all, so long-polls
// and blocking queries are never cut by it; neither are long-polls that
// follow a body (a Nacos config listener), since the deadline is gone once
// the body has been read. A body closed before its end keeps the deadline,
// so that the server's discarding of the rest stays bounded too.
func BoundBodyTime(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			// The writer has no connection to set a deadline on (a test
			// recorder, a wrapper without Unwrap): serve it unbounded.
			h.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, timeout: d}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody turns the connection's deadline error into a
// *BodyTimeoutError and lifts the deadline at the body's end.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	timeout  time.Duration
	released bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, &BodyTimeoutError{Timeout: b.timeout}
	case errors.Is(err, io.EOF) && !b.released:
		// net/http lifts the deadline too when it starts watching the
		// connection after the body; this does not depend on that.
		// The error is ignored: setting it succeeded on this connection
		// when the handler started.
		b.released = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
