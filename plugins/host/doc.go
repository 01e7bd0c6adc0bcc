// Package host starts, supervises and calls meshbridge plugins: the
// out-of-process programs built with the plugin SDK
// (github.com/meshbridge/meshbridge/plugins/sdk), whose package for hosts,
// plugins/sdk/pluginhost, it builds on. Every long-running binary
// (sidecar, registry-adapter, registrysync, mockserver) loads them the same
// way:
//
//	h, err := host.Start(ctx, cfg.Plugins, host.Options{Logger: logger})
//	defer h.Close()
//	p, _ := h.Plugin("jwt-auth")
//	handler, err := host.HTTPMiddleware(p, next)         // sidecar chains
//	store, err = host.TransformingStore(store, tagger)   // registry-adapter
//
// Each plugin is checked against its sha256 checksum before it runs
// (go-plugin's SecureConfig), talks gRPC over a Unix socket with automatic
// mutual TLS, is health-checked, and is restarted with backoff when it
// crashes or hangs. Every call has a timeout; when a call fails the
// plugin's failure policy decides: fail-open goes on without the plugin,
// fail-closed answers 503 (or refuses the registration). Plugin log lines
// land in the host's log with the plugin's name. On Linux plugins run in
// their own process group and die with the host even when it is killed.
package host
