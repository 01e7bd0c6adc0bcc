package wire

import (
	"context"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// callTable is what a call stream (gRPC's or the plugin's channel)
// keeps: the calls waiting for their answers, matched by id, and why the
// stream ended.
type callTable struct {
	// sendSlot is held while one message is sent: a stream takes one
	// message at a time.
	sendSlot chan struct{}

	mu      sync.Mutex
	pending map[uint64]chan *pluginv1.CallResponse
	err     error         // why the stream broke; set once
	done    chan struct{} // closed when it broke
}

func newCallTable() callTable {
	return callTable{sendSlot: make(chan struct{}, 1), pending: map[uint64]chan *pluginv1.CallResponse{}, done: make(chan struct{})}
}

var replyPool = sync.Pool{New: func() any { return make(chan *pluginv1.CallResponse, 1) }}

// begin stamps req with its id and ctx's deadline (the plugin's handler
// gets the same one) and adds it to the calls waiting for answers; the
// answer comes on the returned channel.
func (t *callTable) begin(ctx context.Context, id uint64, req *pluginv1.CallRequest) (chan *pluginv1.CallResponse, error) {
	req.Id = id
	if dl, ok := ctx.Deadline(); ok {
		req.DeadlineUnixNano = dl.UnixNano()
	}
	ch := replyPool.Get().(chan *pluginv1.CallResponse)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		replyPool.Put(ch)
		return nil, t.err
	}
	t.pending[id] = ch
	return ch, nil
}

// answer hands an answer to its caller, if it still waits.
func (t *callTable) answer(resp *pluginv1.CallResponse) {
	t.mu.Lock()
	ch := t.pending[resp.GetId()]
	delete(t.pending, resp.GetId())
	t.mu.Unlock()
	if ch != nil {
		ch <- resp // buffered: never blocks
	}
}

// finish ends call id, which got resp or err, and returns the call's
// result: the plugin's error as a status error. When the stream broke,
// a caller whose context had ended by then gets its context's error.
func (t *callTable) finish(ctx context.Context, id uint64, ch chan *pluginv1.CallResponse, resp *pluginv1.CallResponse, err error) (*pluginv1.CallResponse, error) {
	if err != nil {
		if t.broken() {
			if ctx.Err() != nil {
				return nil, ctxError(ctx)
			}
			return nil, t.err // ch is dropped: an answer may still be on its way into it
		}
		t.mu.Lock()
		_, waiting := t.pending[id]
		delete(t.pending, id)
		t.mu.Unlock()
		if !waiting {
			<-ch // answered after all: take it so ch can be reused
		}
		replyPool.Put(ch)
		return nil, err
	}
	replyPool.Put(ch)
	if e := resp.GetError(); e != nil {
		return nil, status.Error(codes.Code(e.GetCode()), e.GetMessage())
	}
	return resp, nil
}

// end marks the stream broken for err and reports whether this call ended
// it (only the first does). Every call in flight fails with it as
// UNAVAILABLE, whatever broke the stream: a faulty answer cannot be
// pinned on one call.
func (t *callTable) end(err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return false
	}
	t.err = status.Errorf(codes.Unavailable, "plugin call stream: %v", status.Convert(err).Message())
	close(t.done)
	return true
}

func (t *callTable) broken() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// takeSendSlot waits for the turn to send, ctx's end or the stream's;
// releaseSendSlot gives the turn back.
func (t *callTable) takeSendSlot(ctx context.Context) error {
	select {
	case t.sendSlot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctxError(ctx)
	case <-t.done:
		return t.err
	}
}

func (t *callTable) releaseSendSlot() { <-t.sendSlot }

// ctxError is the status error for ctx's end.
func ctxError(ctx context.Context) error { return status.FromContextError(ctx.Err()).Err() }
