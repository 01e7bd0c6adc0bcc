package sdk

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// Calls serves the host's call stream over gRPC.
func (s *server) Calls(stream pluginv1.Plugin_CallsServer) error {
	err := s.serveCalls(stream.Context(), stream.Recv, stream.Send)
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// serveCalls serves one stream of calls, received by recv and answered by
// send, until recv fails, and returns that error. Its goroutines take
// turns at receiving: the one that receives a call leaves the turn to
// another (an idle one, or a new one when none is idle) and answers the
// call itself. So a call runs where it arrived, without a hand-off to a
// new goroutine (a wake-up, and a stack to grow, on every call), and a
// slow call still holds up no other. With ServeConfig.Sequential one
// goroutine keeps the turn and answers each call before the next.
func (s *server) serveCalls(ctx context.Context, recv func() (*pluginv1.CallRequest, error), send func(*pluginv1.CallResponse) error) error {
	c := &callServer{s: s, ctx: ctx, recv: recv, sendFn: send}
	c.serve()
	// Answers must not be sent after this method returns.
	c.wg.Wait()
	return c.err
}

// maxIdle is how many goroutines may wait for their turn at receiving;
// more than that, after a burst of slow calls, end.
const maxIdle = 4

// callServer is one stream of calls being served.
type callServer struct {
	s      *server
	ctx    context.Context
	recv   func() (*pluginv1.CallRequest, error) // under turn
	sendFn func(*pluginv1.CallResponse) error    // under send

	turn sync.Mutex // held by the goroutine receiving
	idle atomic.Int32
	err  error // why receiving ended (under turn); then every goroutine ends
	send sync.Mutex
	wg   sync.WaitGroup
}

func (c *callServer) serve() {
	for {
		// Checked before counting itself, so that idle counts only
		// goroutines that will take the turn: the receiver relies on it.
		if c.idle.Load() >= maxIdle {
			return // enough others wait for the turn
		}
		c.idle.Add(1)
		c.turn.Lock()
		c.idle.Add(-1)
		if c.err != nil {
			c.turn.Unlock()
			return
		}
		req, err := c.recv()
		if err != nil {
			c.err = err
			c.turn.Unlock()
			return
		}
		if c.s.cfg.Sequential { // the receiver keeps the turn while it answers
			c.answer(req)
			c.turn.Unlock()
			continue
		}
		if c.idle.Load() == 0 {
			// Nobody waits for the turn: start someone, so that the next
			// call is received while this one runs.
			c.wg.Go(c.serve)
		}
		c.turn.Unlock()
		c.answer(req)
	}
}

// answer runs req's handler and sends its answer.
func (c *callServer) answer(req *pluginv1.CallRequest) {
	resp := c.s.dispatch(c.ctx, req)
	c.send.Lock()
	_ = c.sendFn(resp) // a failed send means the stream is gone, which recv reports
	c.send.Unlock()
}

// dispatch runs one call of the stream (gRPC's or the channel's) with its
// handler.
func (s *server) dispatch(ctx context.Context, req *pluginv1.CallRequest) *pluginv1.CallResponse {
	if d := req.GetDeadlineUnixNano(); d != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, d))
		defer cancel()
	}
	out := &pluginv1.CallResponse{Id: req.GetId()}
	var err error
	switch c := req.GetCall().(type) {
	case *pluginv1.CallRequest_Request:
		var r *pluginv1.RequestResult
		if r, err = s.handleRequest(ctx, c.Request); err == nil {
			out.Result = &pluginv1.CallResponse_Request{Request: r}
		}
	case *pluginv1.CallRequest_Response:
		var r *pluginv1.ResponseResult
		if r, err = s.handleResponse(ctx, c.Response); err == nil {
			out.Result = &pluginv1.CallResponse_Response{Response: r}
		}
	case *pluginv1.CallRequest_Transform:
		var r *pluginv1.TransformResult
		if r, err = s.transformInstance(ctx, c.Transform); err == nil {
			out.Result = &pluginv1.CallResponse_Transform{Transform: r}
		}
	default:
		err = status.Error(codes.Unimplemented, "unknown call")
	}
	if err != nil {
		return errorResponse(req.GetId(), err)
	}
	return out
}

// errorResponse answers call id with err, as a gRPC status.
func errorResponse(id uint64, err error) *pluginv1.CallResponse {
	st := status.Convert(err)
	return &pluginv1.CallResponse{Id: id, Result: &pluginv1.CallResponse_Error{Error: &pluginv1.CallError{Code: int32(st.Code()), Message: st.Message()}}}
}
