package wire

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// channelConn is the host's end of the calls' channel (see OpenChannel in
// plugin.proto). A caller writes its call to the pipe itself and, when
// nobody else is reading, reads the answers itself, handing any others'
// to them. So a call made alone involves no other goroutine of the host,
// and on the plugin's side one goroutine reads, handles and answers it.
type channelConn struct {
	conn duplex

	wbuf []byte     // under the send slot
	seal *frameSeal // under the send slot

	callTable

	// readTurn is held by the caller reading the answers; in and unseal
	// are used only by that caller.
	readTurn chan struct{}
	in       *msgReader
	unseal   *frameSeal

	// onBreak, when set, is told why the channel broke (not when the host
	// closed it).
	onBreak func(error)
}

// newChannelConn makes the host's end of a channel on conn, whose
// messages are sealed with key.
func newChannelConn(conn duplex, maxRecv int, key []byte) (*channelConn, error) {
	seal, unseal, err := newFrameSeals(key) // the host seals calls, opens answers
	if err != nil {
		return nil, err
	}
	return &channelConn{
		conn:      conn,
		seal:      seal,
		callTable: newCallTable(),
		readTurn:  make(chan struct{}, 1),
		in:        sealedReader(conn, maxRecv, unseal),
		unseal:    unseal,
	}, nil
}

// call sends req and waits for its answer, ctx's end, or the connection's.
func (cc *channelConn) call(ctx context.Context, id uint64, req *pluginv1.CallRequest) (*pluginv1.CallResponse, error) {
	ch, err := cc.begin(ctx, id, req)
	if err != nil {
		return nil, err
	}
	var resp *pluginv1.CallResponse
	if err = cc.send(ctx, req); err == nil {
		resp, err = cc.readUntil(ctx, ch)
	}
	return cc.finish(ctx, id, ch, resp, err)
}

// send writes req. A write still blocked stuckSend past the call's
// deadline means the plugin stopped reading: the connection is failed, so
// that the calls queued behind this one do not wait for the health check.
func (cc *channelConn) send(ctx context.Context, req *pluginv1.CallRequest) error {
	if err := cc.takeSendSlot(ctx); err != nil {
		return err
	}
	defer cc.releaseSendSlot()
	var deadline time.Time
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl.Add(stuckSend)
	} else if ctx.Done() != nil {
		// Known only when the context ends (hosts always set a deadline).
		stop := context.AfterFunc(ctx, func() { _ = cc.conn.SetWriteDeadline(time.Now().Add(stuckSend)) })
		defer stop()
	}
	_ = cc.conn.SetWriteDeadline(deadline) // an error here shows in the write
	msg, err := cc.seal.appendSealed(cc.wbuf[:0], req)
	if err != nil {
		return status.Errorf(codes.Internal, "encode call: %v", err)
	}
	if cap(msg) <= 64<<10 { // keep the buffer, unless a big body grew it
		cc.wbuf = msg
	}
	if _, err := cc.conn.Write(msg); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errors.New("a write has been blocked for " + stuckSend.String() + " past its call's deadline: the plugin is not reading")
		}
		cc.fail(err)
		return cc.err
	}
	return nil
}

// readUntil waits until ch yields, reading the answers while nobody
// else does, or until ctx or the connection ends.
func (cc *channelConn) readUntil(ctx context.Context, ch <-chan *pluginv1.CallResponse) (*pluginv1.CallResponse, error) {
	select {
	case v := <-ch:
		return v, nil
	case cc.readTurn <- struct{}{}:
		defer func() { <-cc.readTurn }()
	case <-ctx.Done():
		return nil, ctxError(ctx)
	case <-cc.done:
		return nil, cc.err
	}
	dl, hasDeadline := ctx.Deadline()
	_ = cc.conn.SetReadDeadline(dl) // zero: none; an error here shows in the read
	if !hasDeadline && ctx.Done() != nil {
		// Wake the read when ctx ends. It may wake a later reader too,
		// which then reads on.
		stop := context.AfterFunc(ctx, func() { _ = cc.conn.SetReadDeadline(time.Now()) })
		defer stop()
	}
	for {
		select {
		case v := <-ch:
			return v, nil
		default:
		}
		err := cc.readAnswer()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil || (hasDeadline && !time.Now().Before(dl)) {
				// The context's own timer may lag the pipe's by a
				// moment; callers tell why a call ended by the context.
				<-ctx.Done()
				return nil, ctxError(ctx)
			}
			_ = cc.conn.SetReadDeadline(dl) // it was set for an earlier reader
			continue
		}
		if err != nil {
			cc.fail(err)
			return nil, cc.err
		}
	}
}

// readAnswer reads one answer and hands it to its caller.
func (cc *channelConn) readAnswer() error {
	msg, err := cc.in.next()
	if tooBig := (*tooBigError)(nil); errors.As(err, &tooBig) {
		return fmt.Errorf("plugin sent a %d-byte answer; the limit is %d", tooBig.size, tooBig.max)
	}
	if err != nil {
		return err
	}
	if msg, err = cc.unseal.openBody(msg); err != nil {
		return err
	}
	resp := &pluginv1.CallResponse{}
	if err := proto.Unmarshal(msg, resp); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	cc.answer(resp)
	return nil
}

// fail marks the channel broken and closes it; callers waiting on it give
// up.
func (cc *channelConn) fail(err error) {
	if cc.end(err) {
		_ = cc.conn.Close() // the error that matters is cc.err
		if cc.onBreak != nil {
			cc.onBreak(err) // the cause itself: io.EOF when the plugin closed its end
		}
	}
}

// close closes the channel for good.
func (cc *channelConn) close() {
	if cc.end(errors.New("closed by the host")) {
		_ = cc.conn.Close()
	}
}
