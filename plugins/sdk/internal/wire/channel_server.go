package wire

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// channel is the plugin's end of the calls' channel (see OpenChannel in
// plugin.proto): two pipes the host made and passed to the plugin process
// when it started it. Between processes it is the cheapest path a call can
// take: one goroutine reads the call, runs the handler and writes the
// answer, where gRPC's server puts a reader and a writer goroutine (and
// TLS) around the handler, each a wake-up. And a pipe wakes its other end
// only when there is something for it; a Unix socket also wakes the
// writer's side whenever the reader takes data, a wake-up for nothing in
// each process on every call (docs/benchmarks.md, "the calls' channel on
// pipes").
type channel struct {
	srv  *Server
	log  *slog.Logger
	conn duplex
	// keys takes the key the host sends with OpenChannel, once (opened);
	// serving starts when it has come.
	keys   chan []byte
	opened atomic.Bool
	// ctx ends when the channel does: the handlers' contexts derive from it.
	ctx  context.Context
	stop context.CancelFunc
	done chan struct{} // closed once serving has ended
}

// newChannel serves srv's calls on conn, once the host has sent the key
// (open), until the host closes its end or close is called.
func newChannel(srv *Server, conn duplex) *channel {
	ch := &channel{srv: srv, log: srv.log, conn: conn, keys: make(chan []byte, 1), done: make(chan struct{})}
	ch.ctx, ch.stop = context.WithCancel(context.Background())
	go func() {
		defer close(ch.done)
		ch.serve()
	}()
	return ch
}

// ended reports whether the channel no longer serves calls.
func (ch *channel) ended() bool {
	select {
	case <-ch.done:
		return true
	default:
		return false
	}
}

// open starts serving with the host's key; false if the channel was
// opened already.
func (ch *channel) open(key []byte) bool {
	if !ch.opened.CompareAndSwap(false, true) {
		return false
	}
	ch.keys <- key // room for one
	return true
}

// serve waits for the key, then reads calls and answers them until the
// host closes its end (or sends bytes that are not a sealed call).
func (ch *channel) serve() {
	var key []byte
	select {
	case key = <-ch.keys:
	case <-ch.ctx.Done():
		return
	}
	unseal, seal, err := newFrameSeals(key) // the plugin opens calls, seals answers
	if err != nil {
		_ = ch.conn.Close()
		ch.log.Warn("calls' channel: bad key; the host carries calls over gRPC", "error", err)
		return
	}
	in := sealedReader(ch.conn, maxCallBytes, unseal)
	var out []byte // under the callServer's send lock
	recv := func() (*pluginv1.CallRequest, error) {
		req := &pluginv1.CallRequest{}
		msg, err := in.next()
		if err == nil {
			msg, err = unseal.openBody(msg)
		}
		if err == nil {
			err = proto.Unmarshal(msg, req)
		}
		if err != nil {
			// Receiving is over, and so is every call in flight: the host
			// gave up on their answers, or the calls' pipe carries
			// something else than sealed calls, and then the pipes close
			// at once, so that the host learns it now rather than when
			// the slowest handler returns.
			ch.stop()
			if !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
				_ = ch.conn.Close()
			}
			return nil, err
		}
		return req, nil
	}
	send := func(resp *pluginv1.CallResponse) error {
		var err error
		if out, err = seal.appendSealed(out[:0], resp); err != nil {
			// An answer that cannot be encoded (invalid UTF-8 in a
			// string) fails its call, not the channel.
			resp = ErrorResponse(resp.GetId(), status.Errorf(codes.Internal, "encode answer: %v", err))
			if out, err = seal.appendSealed(out[:0], resp); err != nil {
				return err
			}
		}
		_, err = ch.conn.Write(out)
		if cap(out) > 64<<10 {
			out = nil // a big answer's buffer is not kept
		}
		return err
	}
	err = ch.srv.serveCalls(ch.ctx, recv, send)
	// Closing both ends: a host still writing calls learns at once that
	// nobody reads them.
	_ = ch.conn.Close()
	// The host closing its end is the normal end.
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) && !errors.Is(err, syscall.EPIPE) {
		ch.log.Warn("calls' channel ended; the host carries calls over gRPC now", "error", err)
	}
}

// close stops serving (a call in flight fails on the host's side, where
// its failure policy decides) and waits a moment for the handlers.
func (ch *channel) close() {
	_ = ch.conn.Close() // first: no handler's answer gets out after this
	ch.stop()
	select {
	case <-ch.done:
	case <-time.After(closeWait):
		ch.log.Warn("calls' channel closed with handlers still running: they ignore their context")
	}
}

// closeWait is how long close waits for handlers to return.
const closeWait = 2 * time.Second
