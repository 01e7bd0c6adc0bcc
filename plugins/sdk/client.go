package sdk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// Info is what a plugin declares about itself.
type Info struct {
	// SDKVersion is the SDK version the plugin was built with.
	SDKVersion string
	// Request and Response say which HTTP phases the plugin handles.
	Request  bool
	Response bool
	// RequestBodyLimit is how many body bytes the plugin wants (0: headers only).
	RequestBodyLimit int
	// Instances says the plugin is an instance transformer.
	Instances bool
}

// HTTP reports whether the plugin handles HTTP calls in either phase.
func (i Info) HTTP() bool { return i.Request || i.Response }

// Client is a host's handle on one running plugin: go-plugin's Dispense of
// PluginName returns one. Plugin authors do not need it; it is exported for
// meshbridge hosts and for tests (TestClient). Errors are gRPC status errors
// (status.Code tells a deadline from a plugin failure), except that a
// rejected instance is a *RejectError.
type Client struct {
	rpc pluginv1.PluginClient

	nextID atomic.Uint64
	mu     sync.Mutex // guards stream
	stream *callStream
	// channel carries the calls when set and not broken (UseChannel);
	// atomic, so that neither calls on it nor OnChannel take a lock.
	channel atomic.Pointer[channelConn]
}

// caller makes calls on one stream.
type caller interface {
	call(ctx context.Context, id uint64, req *pluginv1.CallRequest) (*pluginv1.CallResponse, error)
}

// UseChannel makes the client carry its calls on the plugin's channel (see
// OpenChannel in plugin.proto): two pipes, made with NewChannelPipes and
// passed to the plugin process when it started, on which each caller
// writes and reads its call itself, and one goroutine of the plugin reads,
// handles and answers it, rather than gRPC's transport, which puts
// goroutines (and TLS) between a caller and the socket on both sides.
// maxReply caps the size of an answer (0: no cap). It asks the plugin to
// serve the channel, with a new key that seals every message on it, and
// returns the error if it cannot; calls then stay on the gRPC connection.
// They go back there, for good, if the channel breaks, and broken (when
// not nil) is called once with the cause (io.EOF or EPIPE when the plugin
// closed its end, as it does when it exits). The other RPCs always go
// through the gRPC connection. Whatever the outcome, UseChannel closes the
// pipes' ends it did not take.
func (c *Client) UseChannel(ctx context.Context, pipes *ChannelPipes, maxReply int, broken func(error)) error {
	if pipes == nil {
		return errors.New("plugin calls' channel: no pipes")
	}
	defer pipes.Close()
	key := make([]byte, channelKeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("plugin calls' channel: %w", err)
	}
	offer, err := c.rpc.OpenChannel(ctx, &pluginv1.ChannelRequest{Version: channelVersion, Key: key})
	if err != nil {
		return err
	}
	if offer.GetNetwork() != "pipes" {
		return status.Errorf(codes.Unimplemented, "the plugin offers a channel on %q; this host speaks pipes", offer.GetNetwork())
	}
	conn := pipes.takeHost()
	if conn == nil {
		return errors.New("plugin calls' channel: the pipes were handed to a client already")
	}
	cc, err := newChannelConn(conn, maxReply, key)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("plugin calls' channel: %w", err)
	}
	cc.onBreak = broken
	if old := c.channel.Swap(cc); old != nil {
		old.close()
	}
	return nil
}

// OnChannel reports whether calls go on the calls' channel (UseChannel)
// now, rather than through the gRPC connection. It takes no lock: a
// caller may hold the client's for a while (opening the gRPC stream).
func (c *Client) OnChannel() bool {
	cc := c.channel.Load()
	return cc != nil && !cc.broken()
}

// Close closes the calls' channel, if there is one. The gRPC connection
// belongs to go-plugin (or the test), which closes it.
func (c *Client) Close() {
	if cc := c.channel.Load(); cc != nil {
		cc.close()
	}
}

// caller returns the stream to call on: the calls' channel or the
// gRPC stream, opening one if there is none or the last one broke. The
// channel, the hot path, takes no lock.
func (c *Client) caller() (caller, error) {
	if cc := c.channel.Load(); cc != nil && !cc.broken() {
		return cc, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stream != nil && !c.stream.broken() {
		return c.stream, nil
	}
	cs, err := openCallStream(c.rpc)
	if err != nil {
		return nil, err
	}
	c.stream = cs
	return cs, nil
}

// Describe asks the plugin what it implements.
func (c *Client) Describe(ctx context.Context) (Info, error) {
	m, err := c.rpc.Describe(ctx, &pluginv1.DescribeRequest{})
	if err != nil {
		return Info{}, err
	}
	info := Info{
		SDKVersion:       m.GetSdkVersion(),
		Request:          m.GetHttpRequest(),
		Response:         m.GetHttpResponse(),
		RequestBodyLimit: int(m.GetRequestBodyLimit()),
		Instances:        m.GetInstanceTransformer(),
	}
	if info.RequestBodyLimit < 0 || info.RequestBodyLimit > MaxRequestBodyLimit {
		return Info{}, fmt.Errorf("plugin declares a request body limit of %d bytes; the most is %d", info.RequestBodyLimit, MaxRequestBodyLimit)
	}
	return info, nil
}

// invoke makes one call, on the calls' channel or the gRPC stream.
func invoke[T any](ctx context.Context, c *Client, req *pluginv1.CallRequest, pick func(*pluginv1.CallResponse) T) (T, error) {
	var zero T
	cs, err := c.caller()
	if err != nil {
		return zero, err
	}
	resp, err := cs.call(ctx, c.nextID.Add(1), req)
	if err != nil {
		return zero, err
	}
	return pick(resp), nil
}

// HandleRequest runs the request phase.
func (c *Client) HandleRequest(ctx context.Context, req *Request) (*RequestResult, error) {
	msg := requestToWire(req)
	m, err := invoke(ctx, c, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: msg}},
		(*pluginv1.CallResponse).GetRequest)
	if err != nil {
		return nil, err
	}
	return requestResultFromWire(m), nil
}

// HandleResponse runs the response phase.
func (c *Client) HandleResponse(ctx context.Context, resp *ResponseInfo) (*ResponseResult, error) {
	msg := responseInfoToWire(resp)
	m, err := invoke(ctx, c, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Response{Response: msg}},
		(*pluginv1.CallResponse).GetResponse)
	if err != nil {
		return nil, err
	}
	return &ResponseResult{Header: changesFromWire(m.GetHeaders())}, nil
}

// TransformInstance asks the plugin to amend or reject inst. A rejection is
// returned as a *RejectError.
func (c *Client) TransformInstance(ctx context.Context, inst *Instance) (*Instance, error) {
	msg := &pluginv1.TransformRequest{Instance: instanceToWire(inst)}
	m, err := invoke(ctx, c, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Transform{Transform: msg}},
		(*pluginv1.CallResponse).GetTransform)
	if err != nil {
		return nil, err
	}
	if m.GetRejected() {
		return nil, &RejectError{Reason: m.GetReason()}
	}
	out := instanceFromWire(m.GetInstance())
	if out == nil {
		return nil, fmt.Errorf("plugin returned neither an instance nor a rejection")
	}
	return out, nil
}
