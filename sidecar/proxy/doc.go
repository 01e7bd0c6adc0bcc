// Package proxy holds the sidecar's HTTP listeners: egress (app → mesh: an
// HTTP proxy for absolute-form requests, Host-based routing, CONNECT to
// allowed hosts, and per-service loopback listeners for discovery mode),
// ingress (mesh → app) and the server settings they share (h2c, timeouts,
// graceful drain). They turn a request into a chain.Exchange, run the
// direction's compiled chain and stream the response back, trailers
// included, so gRPC passes through.
package proxy
