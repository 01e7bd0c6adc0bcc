package httpx

import (
	"context"
	"net/http"
	"time"
)

// switched hands c over as the body of resp, a 101 answer. The
// handshake's deadline and cancellation end here: an upgraded connection
// lives as long as its two ends want it, and is never pooled. Whether the
// request asked for the upgrade is the caller's check (the transport
// handler makes it once for every upstream).
func switched(ctx context.Context, c *h1conn, resp *http.Response, stop func() bool) (*http.Response, error) {
	if !stop() {
		return nil, ctx.Err() // cancelled while the answer came
	}
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	resp.Body = &upgraded{BufferedConn{Conn: c.nc, Br: c.br}}
	return resp, nil
}

// upgraded is the connection a 101 answer hands over. Reads start with
// what the response reader already took past the head (a server may speak
// first); CloseWrite passes a half-close on.
type upgraded struct{ BufferedConn }
