// Package transport is the handler that ends every chain: it sends the
// exchange to Exchange.Endpoint over an Upstream and classifies failures
// (connect failure, reset, timeout) for the handlers before it.
//
// The Upstream, an http.RoundTripper, is replaceable by name (config
// `kind`), so the mTLS issue can add a kind that dials with TLS and
// identities without touching any other handler. The built-in kind
// "plain" is httpx's client: HTTP/1.1 keep-alive pools and h2c (HTTP/2
// with prior knowledge) connections per endpoint.
package transport
