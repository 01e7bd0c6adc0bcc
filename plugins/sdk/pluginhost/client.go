package pluginhost

import (
	"context"
	"errors"
	"fmt"

	"github.com/meshbridge/meshbridge/plugins/sdk"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// errNotAPlugin: a host serves no plugin.
var errNotAPlugin = errors.New("pluginhost: a host does not serve the plugin protocol (plugins use package sdk)")

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
// PluginName returns one. Its calls (HandleRequest, HandleResponse,
// TransformInstance, from the embedded sdk.Client) go on the plugin's
// calls' channel once UseChannel opened it, else on go-plugin's gRPC
// connection; their errors are gRPC status errors (status.Code tells a
// deadline from a plugin failure), except that a rejected instance is an
// *sdk.RejectError.
type Client struct {
	*sdk.Client
	conn *wire.Conn
}

// Describe asks the plugin what it implements.
func (c *Client) Describe(ctx context.Context) (Info, error) {
	m, err := c.conn.RPC().Describe(ctx, &pluginv1.DescribeRequest{})
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
	if info.RequestBodyLimit < 0 || info.RequestBodyLimit > sdk.MaxRequestBodyLimit {
		return Info{}, fmt.Errorf("plugin declares a request body limit of %d bytes; the most is %d", info.RequestBodyLimit, sdk.MaxRequestBodyLimit)
	}
	return info, nil
}

// UseChannel makes the client carry its calls on the plugin's calls'
// channel: pipes, made with NewChannelPipes and passed to the plugin
// process when it started, on which each caller writes and reads its call
// itself, rather than gRPC's transport, which puts goroutines (and TLS)
// between a caller and the socket on both sides. maxReply caps the size of
// an answer (0: no cap). It asks the plugin to serve the channel, with a
// new key that seals every message on it, and returns the error if it
// cannot; calls then stay on the gRPC connection's Calls stream, the
// channel's one fallback. They go back there, for good, if the channel
// breaks, and broken (when not nil) is called once with the cause (io.EOF
// or EPIPE when the plugin closed its end, as it does when it exits).
// Whatever the outcome, UseChannel closes the pipes' ends it did not take.
func (c *Client) UseChannel(ctx context.Context, pipes *ChannelPipes, maxReply int, broken func(error)) error {
	var p *wire.Pipes
	if pipes != nil {
		p = pipes.pipes
	}
	return c.conn.UseChannel(ctx, p, maxReply, broken)
}

// OnChannel reports whether calls go on the calls' channel now, rather
// than through the gRPC connection. It takes no lock.
func (c *Client) OnChannel() bool { return c.conn.OnChannel() }

// Close closes the calls' channel, if there is one. The gRPC connection
// belongs to go-plugin, which closes it.
func (c *Client) Close() { c.conn.Close() }
