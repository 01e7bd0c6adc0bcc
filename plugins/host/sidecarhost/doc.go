// Package sidecarhost connects the plugin host to the sidecar's handler
// chain: it implements the sidecar's plugin.Host, so the "plugin" handler
// (sidecar/handlers/plugin) runs HTTP handler plugins wherever a chain
// lists it, inbound or outbound. The sidecar's main installs it once the
// plugins have started:
//
//	h, err := host.Start(ctx, cfg.Plugins, host.Options{Logger: log, Metrics: reg})
//	plugin.SetHost(sidecarhost.New(h))
//
// It lives apart from package host so that binaries without a sidecar chain
// (registry-adapter, registrysync) do not link the sidecar's packages.
package sidecarhost
