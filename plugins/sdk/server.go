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
)

// server is the plugin side of the protocol: it maps messages to the plain
// types and calls the author's handlers. A handler that panics fails only
// the one call; the plugin keeps serving.
type server struct {
	pluginv1.UnimplementedPluginServer
	cfg ServeConfig
	log *slog.Logger
	// channel, when set, serves the calls on the pipes the host passed.
	channel *channel
}

func newServer(cfg ServeConfig, logger *slog.Logger) *server {
	return &server{cfg: cfg, log: logger}
}

// base is the server itself; tests wrap it to change one method.
func (s *server) base() *server { return s }

func (s *server) Describe(context.Context, *pluginv1.DescribeRequest) (*pluginv1.DescribeResponse, error) {
	return &pluginv1.DescribeResponse{
		SdkVersion:          Version,
		HttpRequest:         s.cfg.Request != nil,
		HttpResponse:        s.cfg.Response != nil,
		RequestBodyLimit:    int64(s.cfg.RequestBodyLimit),
		InstanceTransformer: s.cfg.Instances != nil,
	}, nil
}

// OpenChannel tells the host the plugin serves calls on the pipes it was
// given, when it was given them.
func (s *server) OpenChannel(_ context.Context, m *pluginv1.ChannelRequest) (*pluginv1.ChannelOffer, error) {
	switch {
	case m.GetVersion() != channelVersion:
		return nil, status.Errorf(codes.Unimplemented, "the plugin speaks channel version %d, the host %d", channelVersion, m.GetVersion())
	case s.channel == nil:
		return nil, status.Error(codes.Unimplemented, "the host passed the plugin no usable pipes for its calls")
	case s.channel.ended():
		return nil, status.Error(codes.Unimplemented, "the plugin's calls' channel has ended")
	case len(m.GetKey()) != channelKeySize:
		return nil, status.Errorf(codes.InvalidArgument, "the channel's key must be %d bytes, got %d", channelKeySize, len(m.GetKey()))
	case !s.channel.open(m.GetKey()):
		return nil, status.Error(codes.FailedPrecondition, "the plugin's calls' channel was opened already")
	}
	return &pluginv1.ChannelOffer{Network: "pipes"}, nil
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
		return ctxError(ctx)
	}
	return status.Error(codes.Internal, err.Error())
}

var _ pluginv1.PluginServer = (*server)(nil)
