// Package proxy holds the sidecar's HTTP listeners: egress (app → mesh: an
// HTTP proxy for absolute-form requests, Host-based routing, CONNECT to
// allowed hosts or, ended in the sidecar, to mesh services, and
// per-service loopback listeners for discovery mode), ingress (mesh → app)
// and the server settings they share (h2c, timeouts, graceful drain). They
// turn a request into a chain.Exchange, run the direction's compiled chain
// and stream the response back, trailers included, so gRPC passes through.
// An upgrade the upstream accepts (101, WebSocket) and a CONNECT to an
// outside host become a tunnel: the client's connection and the
// upstream's spliced, in flight until both ends are done or the drain
// window closes.
package proxy
