package wire

import plugin "github.com/hashicorp/go-plugin"

// SDKVersion is the version of the SDK module, reported to hosts by
// Describe.
const SDKVersion = "0.1.0"

// ProtocolVersion is the plugin protocol version this SDK speaks. Hosts
// and plugins negotiate it in the handshake; an incompatible protocol
// change bumps it.
const ProtocolVersion = 1

// PluginName is the name under which the plugin is dispensed by go-plugin.
const PluginName = "meshbridge"

// Handshake is the go-plugin handshake every meshbridge host and plugin
// share. The magic cookie is not a secret: it only keeps a plugin from
// doing anything when it is run by hand (sdk.Serve then prints a friendly
// message saying what the binary is).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "MESHBRIDGE_PLUGIN",
	MagicCookieValue: "5f8c1d2e-meshbridge-plugin-v1-7a4b9e03",
}

// LogLevelEnv is the variable through which a host passes its log level to
// the plugins it starts, so that plugins do not write lines the host would
// drop.
const LogLevelEnv = "MESHBRIDGE_PLUGIN_LOG_LEVEL"
