package transport

import (
	"errors"
	"io"
	"sync"

	"github.com/meshbridge/meshbridge/sidecar/httpx"
	"github.com/meshbridge/meshbridge/sidecar/table"
)

var (
	// errUnasked is a 101 answer to a request that asked for no upgrade.
	errUnasked = errors.New("transport: 101 Switching Protocols to a request that asked for no upgrade")
	// errNoConn is a 101 answer from an upstream that kept the connection.
	errNoConn = errors.New("transport: 101 Switching Protocols without the upgraded connection")
)

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

func (h *held) CloseWrite() error { return httpx.CloseWrite(h.ReadWriteCloser) }
