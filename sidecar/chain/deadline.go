package chain

import (
	"io"
	"net/http"
	"time"
)

// WithTimeout runs next with the exchange bound to end within d (or
// earlier, when an outer deadline is sooner). The deadline covers the
// whole exchange, response body included: the transport puts it on the
// connection. An attempt that fails because the deadline passed, while the
// caller is still there, becomes a 504 timeout.
func WithTimeout(ex *Exchange, d time.Duration, next Next) (*http.Response, error) {
	outer := ex.deadline
	dl := time.Now().Add(d)
	if !outer.IsZero() && outer.Before(dl) {
		dl = outer
	}
	ex.deadline = dl
	resp, err := next(ex)
	ex.deadline = outer
	if err != nil && !IsReason(err, ReasonTimeout) && !time.Now().Before(dl) && ex.Request.Context().Err() == nil {
		err = &Error{Status: http.StatusGatewayTimeout, Reason: ReasonTimeout, Err: err}
	}
	return resp, err
}

// Discard closes a response that will not be forwarded. Small bodies are
// drained first so the connection can go back to the pool.
func Discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		_ = resp.Body.Close() // an upgraded connection has no end to read to
		return
	}
	// Draining a few KiB keeps the keep-alive connection; past that,
	// closing (and reconnecting later) is cheaper than reading.
	_, _ = io.CopyN(io.Discard, resp.Body, 8<<10) // best effort: the body is thrown away
	_ = resp.Body.Close()                         // nothing to do about a close error on a discarded body
}
