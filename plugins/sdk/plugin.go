package sdk

import (
	"context"
	"errors"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/meshbridge/meshbridge/plugins/sdk/internal/pluginv1"
	"github.com/meshbridge/meshbridge/plugins/sdk/internal/wire"
)

// grpcPlugin binds the plugin's server to go-plugin. It is the plugin's
// side only: hosts dispense package pluginhost's.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	server *server
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginv1.RegisterPluginServer(s, p.server)
	return nil
}

func (p *grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("sdk: a plugin does not call plugins (hosts use package pluginhost)")
}

// pluginSets is what Serve passes as go-plugin's VersionedPlugins.
func (s *server) pluginSets() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{wire.ProtocolVersion: {wire.PluginName: &grpcPlugin{server: s}}}
}

var _ plugin.GRPCPlugin = (*grpcPlugin)(nil)
