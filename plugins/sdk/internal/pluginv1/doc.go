// Package pluginv1 is the generated protobuf and gRPC code of plugin
// protocol version 1. It is internal: plugin authors use the plain Go types
// of package sdk and hosts package pluginhost's Client, which map to these
// messages (package wire carries them).
package pluginv1

//go:generate ./generate.sh
