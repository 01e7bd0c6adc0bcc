package sdk

import (
	"context"
	"errors"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// Client calls a plugin's handlers over the plugin protocol, as a host
// does: TestClient returns one for a plugin's tests. Errors are gRPC
// status errors (status.Code tells a deadline, codes.DeadlineExceeded,
// from a plugin failure), except that a rejected instance is a
// *RejectError.
type Client struct {
	conn *wire.Conn
}

// NewClient is for package pluginhost, the hosts' side of the SDK, which
// makes conn (its type is internal to the SDK module, so plugin authors
// cannot make one; they get a Client from TestClient).
func NewClient(conn *wire.Conn) *Client { return &Client{conn: conn} }

// call makes one call and picks its result out of the answer.
func call[T any](ctx context.Context, c *Client, req *pluginv1.CallRequest, pick func(*pluginv1.CallResponse) T) (T, error) {
	resp, err := c.conn.Call(ctx, req)
	if err != nil {
		var zero T
		return zero, err
	}
	return pick(resp), nil
}

// HandleRequest runs the request phase.
func (c *Client) HandleRequest(ctx context.Context, req *Request) (*RequestResult, error) {
	m, err := call(ctx, c, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Request{Request: requestToWire(req)}},
		(*pluginv1.CallResponse).GetRequest)
	if err != nil {
		return nil, err
	}
	return requestResultFromWire(m), nil
}

// HandleResponse runs the response phase.
func (c *Client) HandleResponse(ctx context.Context, resp *ResponseInfo) (*ResponseResult, error) {
	m, err := call(ctx, c, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Response{Response: responseInfoToWire(resp)}},
		(*pluginv1.CallResponse).GetResponse)
	if err != nil {
		return nil, err
	}
	return &ResponseResult{Header: changesFromWire(m.GetHeaders())}, nil
}

// TransformInstance asks the plugin to amend or reject inst. A rejection is
// returned as a *RejectError.
func (c *Client) TransformInstance(ctx context.Context, inst *Instance) (*Instance, error) {
	m, err := call(ctx, c, &pluginv1.CallRequest{Call: &pluginv1.CallRequest_Transform{Transform: &pluginv1.TransformRequest{Instance: instanceToWire(inst)}}},
		(*pluginv1.CallResponse).GetTransform)
	if err != nil {
		return nil, err
	}
	if m.GetRejected() {
		return nil, &RejectError{Reason: m.GetReason()}
	}
	out := instanceFromWire(m.GetInstance())
	if out == nil {
		return nil, errors.New("plugin returned neither an instance nor a rejection")
	}
	return out, nil
}
