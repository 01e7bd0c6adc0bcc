package wire

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

// Conn is a host's end of its connection to one running plugin: the gRPC
// client go-plugin connected, and the calls' channel once UseChannel opened
// it. Errors of calls are gRPC status errors (status.Code tells a deadline
// from a plugin failure).
type Conn struct {
	rpc pluginv1.PluginClient

	nextID atomic.Uint64
	mu     sync.Mutex // guards stream
	stream *callStream
	// channel carries the calls when set and not broken (UseChannel);
	// atomic, so that neither calls on it nor OnChannel take a lock.
	channel atomic.Pointer[channelConn]
}

// NewConn makes calls through rpc until UseChannel opens the channel.
func NewConn(rpc pluginv1.PluginClient) *Conn { return &Conn{rpc: rpc} }

// RPC is the gRPC client, for the calls that are not on the call stream
// (Describe).
func (c *Conn) RPC() pluginv1.PluginClient { return c.rpc }

// UseChannel makes the connection carry its calls on the plugin's channel
// (see OpenChannel in plugin.proto): two pipes, made with NewPipes and
// passed to the plugin process when it started, on which each caller
// writes and reads its call itself, and one goroutine of the plugin reads,
// handles and answers it, rather than gRPC's transport, which puts
// goroutines (and TLS) between a caller and the socket on both sides.
// maxReply caps the size of an answer (0: no cap). It asks the plugin to
// serve the channel, with a new key that seals every message on it, and
// returns the error if it cannot; calls then stay on the gRPC stream.
// They go back there, for good, if the channel breaks, and broken (when
// not nil) is called once with the cause (io.EOF or EPIPE when the plugin
// closed its end, as it does when it exits). The other RPCs always go
// through the gRPC connection. Whatever the outcome, UseChannel closes the
// pipes' ends it did not take.
func (c *Conn) UseChannel(ctx context.Context, pipes *Pipes, maxReply int, broken func(error)) error {
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
// now, rather than on the gRPC stream. It takes no lock: a caller may
// hold the connection's for a while (opening the gRPC stream).
func (c *Conn) OnChannel() bool {
	cc := c.channel.Load()
	return cc != nil && !cc.broken()
}

// Close closes the calls' channel, if there is one. The gRPC connection
// belongs to go-plugin (or the test), which closes it.
func (c *Conn) Close() {
	if cc := c.channel.Load(); cc != nil {
		cc.close()
	}
}

// Call makes one call, on the calls' channel or the gRPC stream, and
// returns its answer; a failed call is an error, not an answer.
func (c *Conn) Call(ctx context.Context, req *pluginv1.CallRequest) (*pluginv1.CallResponse, error) {
	if cc := c.channel.Load(); cc != nil && !cc.broken() { // the hot path takes no lock
		return cc.call(ctx, c.nextID.Add(1), req)
	}
	cs, err := c.callStream()
	if err != nil {
		return nil, err
	}
	return cs.call(ctx, c.nextID.Add(1), req)
}

// callStream returns the gRPC stream, opening one if there is none or the
// last one broke.
func (c *Conn) callStream() (*callStream, error) {
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
