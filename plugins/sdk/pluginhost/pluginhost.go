package pluginhost

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/meshbridge/meshbridge/plugins/sdk"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// Handshake is go-plugin's handshake every meshbridge host and plugin
// share (ClientConfig.HandshakeConfig).
var Handshake = wire.Handshake

// PluginName is the name to dispense a plugin under (ClientProtocol.Dispense).
const PluginName = wire.PluginName

// LogLevelEnv is the variable through which a host passes its log level to
// the plugins it starts ("debug", "info", "warn" or "error"), so that
// plugins do not write lines the host would drop.
const LogLevelEnv = wire.LogLevelEnv

// PluginSets is what a host passes as go-plugin's
// ClientConfig.VersionedPlugins: the protocol versions it can speak, each
// with the plugin that, once dispensed under PluginName, is a *Client.
func PluginSets() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{wire.ProtocolVersion: {PluginName: &grpcPlugin{}}}
}

// DialOptions are the gRPC options a host dials a plugin with
// (ClientConfig.GRPCDialOptions, with the host's own).
func DialOptions() []grpc.DialOption { return wire.DialOptions() }

// grpcPlugin binds the protocol to go-plugin on the host's side: it makes
// the Client.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (*grpcPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errNotAPlugin
}

func (*grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return newClient(wire.NewConn(pluginv1.NewPluginClient(c))), nil
}

var _ plugin.GRPCPlugin = (*grpcPlugin)(nil)

// newClient is the Client of conn.
func newClient(conn *wire.Conn) *Client {
	return &Client{Client: sdk.NewClient(conn), conn: conn}
}
