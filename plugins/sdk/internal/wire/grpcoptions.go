package wire

import "google.golang.org/grpc"

// window is the HTTP/2 flow-control window of the connection and of each
// stream. It is fixed (no BDP estimation): with an estimator each side
// sends a ping and a window update after almost every small message, which
// costs the other process a wake-up per call.
const window = 1 << 20

// DialOptions are the gRPC options a host dials a plugin with.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithStaticStreamWindowSize(window),
		grpc.WithStaticConnWindowSize(window),
	}
}

// ServerOptions are the plugin's side of DialOptions.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.StaticStreamWindowSize(window),
		grpc.StaticConnWindowSize(window),
	}
}
