package chain

import (
	"context"
	"io"
	"net/http"
	"time"
)

// WithTimeout runs next with the request bound to a context that ends after
// d. The deadline covers the whole exchange, body included; the context is
// released when the response body is closed.
func WithTimeout(ex *Exchange, d time.Duration, next Next) (*http.Response, error) {
	orig := ex.Request
	ctx, cancel := context.WithTimeout(orig.Context(), d)
	ex.Request = orig.WithContext(ctx)
	resp, err := next(ex)
	ex.Request = orig
	if err != nil || resp == nil {
		if ctx.Err() == context.DeadlineExceeded && orig.Context().Err() == nil {
			err = &Error{Status: http.StatusGatewayTimeout, Reason: ReasonTimeout, Err: err}
		}
		cancel()
		return resp, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// Discard closes a response that will not be forwarded. Small bodies are
// drained first so the connection can go back to the pool.
func Discard(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	// Draining a few KiB keeps the keep-alive connection; past that,
	// closing (and reconnecting later) is cheaper than reading.
	_, _ = io.CopyN(io.Discard, resp.Body, 8<<10) // best effort: the body is thrown away
	_ = resp.Body.Close()                         // nothing to do about a close error on a discarded body
}

// Sleep waits d or until ctx ends; it reports whether the full time passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
