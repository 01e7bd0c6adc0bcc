// Package wire is the plugin protocol below package sdk's plain types:
// the go-plugin handshake, and the two ways a host's calls reach a
// plugin's handlers. Plugin authors and hosts do not import it (it is
// internal to the SDK module); package sdk serves calls with it, and
// package pluginhost makes them.
//
// The calls travel on the plugin's calls' channel when it opens: two pipes
// the host makes and the plugin process inherits, each message sealed
// with AES-GCM under a key the host sends over go-plugin's mutual-TLS
// gRPC connection (channel_*.go). Its one fallback is the Calls stream on
// that gRPC connection (stream_client.go, server.go), for a plugin that
// cannot serve the channel and for the rest of a plugin process's life
// once its channel broke. docs/plugins.md says why the channel exists
// (what it saves, measured) and whom its seal keeps out.
package wire
