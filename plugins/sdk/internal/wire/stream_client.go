package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// callStream is the host's end of one Calls stream: callers send under a
// lock and wait for the answer with their id, which one reader goroutine
// hands out.
type callStream struct {
	s      pluginv1.Plugin_CallsClient
	cancel context.CancelFunc

	sends uint64 // sends so far (under the send slot: gRPC streams take one sender at a time)
	stuck *stuckWatch

	callTable
}

func openCallStream(rpc pluginv1.PluginClient) (*callStream, error) {
	// The stream lives until the connection does (go-plugin closes it when
	// the plugin is stopped) or until it breaks.
	ctx, cancel := context.WithCancel(context.Background())
	s, err := rpc.Calls(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	cs := &callStream{s: s, cancel: cancel, callTable: newCallTable()}
	cs.stuck = newStuckWatch(func() {
		cs.fail(fmt.Errorf("a send has been blocked for %s past its call's deadline: the plugin is not reading", stuckSend))
	})
	go cs.receive()
	return cs, nil
}

func (cs *callStream) receive() {
	for {
		resp, err := cs.s.Recv()
		if err != nil {
			cs.fail(err)
			return
		}
		cs.answer(resp)
	}
}

// fail marks the stream broken; callers waiting on it give up.
func (cs *callStream) fail(err error) {
	if cs.end(err) {
		cs.cancel()
		cs.stuck.stop()
	}
}

// call sends req and waits for its answer, ctx's end, or the stream's.
func (cs *callStream) call(ctx context.Context, id uint64, req *pluginv1.CallRequest) (*pluginv1.CallResponse, error) {
	ch, err := cs.begin(ctx, id, req)
	if err != nil {
		return nil, err
	}
	var resp *pluginv1.CallResponse
	if err = cs.send(ctx, req); err == nil {
		select {
		case resp = <-ch:
		case <-ctx.Done():
			err = ctxError(ctx)
		case <-cs.done:
			err = cs.err
		}
	}
	return cs.finish(ctx, id, ch, resp, err)
}

// stuckSend is how long a send may go on past its caller's deadline (or,
// without one, its context's end) before the stream is declared stuck. A
// send takes microseconds unless the plugin stopped reading.
const stuckSend = 250 * time.Millisecond

// send sends one message. A plugin that stops reading (hung, stopped)
// fills the stream's flow-control window and then blocks the sender, which
// gRPC would not let go before the stream ends: when a send is still
// blocked stuckSend past its caller's deadline, the stream is broken,
// so that neither this caller nor those queued behind it (who give up at
// their own deadlines) wait for the health check to notice.
func (cs *callStream) send(ctx context.Context, req *pluginv1.CallRequest) error {
	if err := cs.takeSendSlot(ctx); err != nil {
		return err
	}
	defer cs.releaseSendSlot()
	cs.sends++
	n := cs.sends
	if dl, ok := ctx.Deadline(); ok {
		cs.stuck.begin(n, dl.Add(stuckSend))
	} else {
		// Known only when the context ends (hosts always set a deadline).
		cs.stuck.begin(n, time.Time{})
		stop := context.AfterFunc(ctx, func() { cs.stuck.arm(n, time.Now().Add(stuckSend)) })
		defer stop()
	}
	err := cs.s.Send(req)
	cs.stuck.end()
	if errors.Is(err, io.EOF) {
		// The stream has ended; gRPC gives the reason to the receiver.
		select {
		case <-cs.done:
		case <-ctx.Done():
			cs.fail(ctx.Err())
		}
		return cs.err
	}
	if err != nil {
		cs.fail(err)
		return cs.err
	}
	return nil
}
