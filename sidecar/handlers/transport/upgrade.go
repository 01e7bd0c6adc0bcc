package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/table"
	"github.com/meshbridge/meshbridge/sidecar/wire"
)

var (
	// errUnasked is a 101 answer to a request that asked for no upgrade.
	errUnasked = errors.New("transport: 101 Switching Protocols to a request that asked for no upgrade")
	// errNoConn is a 101 answer from an upstream that kept the connection.
	errNoConn = errors.New("transport: 101 Switching Protocols without the upgraded connection")
)

// switched hands c over as the body of resp, a 101 answer. The
// handshake's deadline and cancellation end here: an upgraded connection
// lives as long as its two ends want it, and is never pooled. Whether the
// request asked for the upgrade is the handler's check (Handler.switched),
// made once for every upstream.
func switched(ctx context.Context, c *h1conn, resp *http.Response, stop func() bool) (*http.Response, error) {
	if !stop() {
		return nil, ctx.Err() // cancelled while the answer came
	}
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	resp.Body = &upgraded{wire.BufferedConn{Conn: c.nc, Br: c.br}}
	return resp, nil
}

// upgraded is the connection a 101 answer hands over. Reads start with
// what the response reader already took past the head (a server may speak
// first); CloseWrite passes a half-close on.
type upgraded struct{ wire.BufferedConn }

// held is an upgraded connection that counts as a request in flight on
// its endpoint until it is closed, so that least-request balancing sees
// long-lived tunnels.
type held struct {
	io.ReadWriteCloser
	stats *table.Stats
	once  sync.Once
}

func hold(rwc io.ReadWriteCloser, s *table.Stats) *held { return &held{ReadWriteCloser: rwc, stats: s} }

func (h *held) Close() error {
	err := h.ReadWriteCloser.Close()
	h.once.Do(func() { h.stats.Active.Add(-1) })
	return err
}

func (h *held) CloseWrite() error { return wire.CloseWrite(h.ReadWriteCloser) }
