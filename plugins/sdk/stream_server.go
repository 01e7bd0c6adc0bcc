package sdk

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// Calls serves the host's call stream: each call runs on its own goroutine
// (a slow call does not hold up the others) and its answer goes back on the
// stream as soon as it is ready.
func (s *server) Calls(stream pluginv1.Plugin_CallsServer) error {
	ctx := stream.Context()
	var sendMu sync.Mutex
	var wg sync.WaitGroup
	// Answers must not be sent after this method returns.
	defer wg.Wait()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		wg.Go(func() {
			resp := s.dispatch(ctx, req)
			sendMu.Lock()
			defer sendMu.Unlock()
			_ = stream.Send(resp) // a failed send means the stream is gone, which Recv reports
		})
	}
}

// dispatch runs one call of the stream through the same code as the unary
// methods.
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
		if r, err = s.HandleRequest(ctx, c.Request); err == nil {
			out.Result = &pluginv1.CallResponse_Request{Request: r}
		}
	case *pluginv1.CallRequest_Response:
		var r *pluginv1.ResponseResult
		if r, err = s.HandleResponse(ctx, c.Response); err == nil {
			out.Result = &pluginv1.CallResponse_Response{Response: r}
		}
	case *pluginv1.CallRequest_Transform:
		var r *pluginv1.TransformResult
		if r, err = s.TransformInstance(ctx, c.Transform); err == nil {
			out.Result = &pluginv1.CallResponse_Transform{Transform: r}
		}
	default:
		err = status.Error(codes.Unimplemented, "unknown call")
	}
	if err != nil {
		st := status.Convert(err)
		out.Result = &pluginv1.CallResponse_Error{Error: &pluginv1.CallError{Code: int32(st.Code()), Message: st.Message()}}
	}
	return out
}
