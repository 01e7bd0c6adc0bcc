// Package sdk is what a meshbridge plugin author imports.
//
// A plugin is a separate program that a meshbridge binary (sidecar,
// registry-adapter, registrysync, mockserver) starts, supervises and calls
// over gRPC through hashicorp/go-plugin. It can be of two kinds, or both:
//
//   - an HTTP handler, placed in a sidecar chain: its request phase either
//     lets the request continue with header changes or answers it directly
//     (status, headers, body); an optional response phase changes the
//     response headers;
//   - an instance transformer, run on every registration and on every synced
//     record: it amends a service instance or rejects it.
//
// A plugin's main is a few lines:
//
//	func main() {
//		sdk.Serve(sdk.ServeConfig{Request: myHandler{}})
//	}
//
// Plugins see headers only unless they declare RequestBodyLimit, and then at
// most that many bytes of the body. They log with Logger (JSON on stderr; the
// host forwards every line into its own log under the plugin's name) and
// never write to stdout, which carries the handshake.
//
// TestClient runs a configuration in a test, behind the real protocol, and
// calls it as a host does.
//
// The protocol (internal/pluginv1, carried by internal/wire) is versioned
// by the handshake and kept behind the plain Go types of this package.
// Hosts use package pluginhost; plugin authors do not need it.
package sdk
