package sdk

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
)

// Version is the version of this SDK, reported to hosts by Describe.
const Version = "0.1.0"

// ProtocolVersion is the plugin protocol version this SDK speaks. Hosts
// and plugins negotiate it in the handshake; an incompatible protocol change
// bumps it.
const ProtocolVersion = 1

// PluginName is the name under which the plugin is dispensed by go-plugin.
const PluginName = "meshbridge"

// Handshake is the go-plugin handshake every meshbridge host and plugin
// share. The magic cookie is not a secret: it only keeps a plugin from doing
// anything when it is run by hand (Serve then prints a friendly message).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "MESHBRIDGE_PLUGIN",
	MagicCookieValue: "5f8c1d2e-meshbridge-plugin-v1-7a4b9e03",
}

// HostPluginSets is what a host passes as go-plugin's
// ClientConfig.VersionedPlugins: the protocol versions it can speak, each
// with the plugin that, once dispensed under PluginName, is a *Client.
func HostPluginSets() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &grpcPlugin{}},
	}
}

// grpcPlugin binds the protocol to go-plugin: on the plugin side it
// registers the server, on the host side it builds the Client.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	server *server // nil on the host side
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterPluginServer(s, p.server)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{rpc: pluginv1.NewPluginClient(c)}, nil
}

var _ plugin.GRPCPlugin = (*grpcPlugin)(nil)
