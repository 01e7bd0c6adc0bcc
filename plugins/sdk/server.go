package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// server is the plugin side of the protocol: it maps messages to the plain
// types and calls the author's handlers, on the calls' channel or the
// Calls stream (wire.Server, which it embeds, serves both). A handler
// that panics fails only the one call; the plugin keeps serving.
type server struct {
	*wire.Server
	cfg ServeConfig
	log *slog.Logger
}

func newServer(cfg ServeConfig, logger *slog.Logger) *server {
	s := &server{cfg: cfg, log: logger}
	s.Server = wire.NewServer(s.dispatch, cfg.Sequential, logger)
	return s
}

// Describe tells the host what the plugin implements.
func (s *server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return &pluginv1.DescribeResponse{
		SdkVersion:          wire.SDKVersion,
		HttpRequest:         s.cfg.Request != nil,
		HttpResponse:        s.cfg.Response != nil,
		RequestBodyLimit:    int64(s.cfg.RequestBodyLimit),
		InstanceTransformer: s.cfg.Instances != nil,
	}, nil
}

// dispatch runs one call of a stream (the channel's or gRPC's) with its
// handler.
func (s *server) dispatch(ctx context.Context, req *pluginv1.CallRequest) *pluginv1.CallResponse {
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
		return wire.ErrorResponse(req.GetId(), err)
	}
	return out
}

// handleRequest runs the request phase.
func (s *server) handleRequest(ctx context.Context, m *pluginv1.HTTPRequest) (res *pluginv1.RequestResult, err error) {
	if s.cfg.Request == nil {
		return nil, status.Error(codes.Unimplemented, "plugin has no request phase")
	}
	defer s.recoverCall("HandleRequest", &err)
	out, err := s.cfg.Request.HandleRequest(ctx, requestFromWire(m))
	if err != nil {
		return nil, callError(ctx, err)
	}
	return requestResultToWire(out), nil
}

// handleResponse runs the response phase.
func (s *server) handleResponse(ctx context.Context, m *pluginv1.ResponseInfo) (res *pluginv1.ResponseResult, err error) {
	if s.cfg.Response == nil {
		return nil, status.Error(codes.Unimplemented, "plugin has no response phase")
	}
	defer s.recoverCall("HandleResponse", &err)
	out, err := s.cfg.Response.HandleResponse(ctx, responseInfoFromWire(m))
	if err != nil {
		return nil, callError(ctx, err)
	}
	if out == nil {
		return &pluginv1.ResponseResult{}, nil
	}
	return &pluginv1.ResponseResult{Headers: changesToWire(out.Header)}, nil
}

// transformInstance runs the instance transformer.
func (s *server) transformInstance(ctx context.Context, m *pluginv1.TransformRequest) (res *pluginv1.TransformResult, err error) {
	if s.cfg.Instances == nil {
		return nil, status.Error(codes.Unimplemented, "plugin is not an instance transformer")
	}
	defer s.recoverCall("TransformInstance", &err)
	in := instanceFromWire(m.GetInstance())
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "no instance")
	}
	out, err := s.cfg.Instances.TransformInstance(ctx, in)
	if r, ok := IsReject(err); ok {
		return &pluginv1.TransformResult{Rejected: true, Reason: r.Reason}, nil
	}
	if err != nil {
		return nil, callError(ctx, err)
	}
	if out == nil {
		out = in // nil with no error means "keep it as it is"
	}
	return &pluginv1.TransformResult{Instance: instanceToWire(out)}, nil
}

func (s *server) recoverCall(call string, errp *error) {
	if v := recover(); v != nil {
		s.log.Error("plugin handler panicked", "call", call, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		*errp = status.Errorf(codes.Internal, "plugin panicked in %s: %v", call, v)
	}
}

// callError turns a handler's error into a gRPC status the host can tell
// apart: the host's deadline passing, or a failure of the plugin.
func callError(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Error(codes.Internal, err.Error())
}

var _ pluginv1.PluginServer = (*server)(nil)
