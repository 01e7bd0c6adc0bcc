// Package pluginv1 is the generated protobuf and gRPC code of plugin
// protocol version 1. It is internal: plugin authors and hosts use the plain
// Go types of package sdk, which map to these messages.
package pluginv1

//go:generate ./generate.sh
