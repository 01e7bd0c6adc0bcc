// Package pluginhost is the SDK for meshbridge hosts, not for plugin
// authors: what a binary that starts and calls plugins needs besides
// go-plugin (meshbridge's plugins/host package builds on it). It gives the
// go-plugin configuration every host shares (Handshake, PluginSets,
// DialOptions), the Client that go-plugin's Dispense of PluginName
// returns, and the pipes of a plugin's calls' channel (ChannelPipes),
// which a host makes before each start of a plugin.
//
// The wire protocol stays inside the SDK module (internal/pluginv1,
// internal/wire); calls take and return package sdk's plain types.
package pluginhost
