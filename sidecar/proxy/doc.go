// Package proxy is the sidecar's proxying: the egress handler (app →
// mesh: an HTTP proxy for absolute-form requests, Host-based routing,
// CONNECT to allowed hosts or, ended in the sidecar, to mesh services,
// and per-service handlers for the loopback listeners of discovery mode)
// and the ingress handler (mesh → app). They turn a request into a
// chain.Exchange, run the direction's compiled chain and stream the
// response back, trailers included, so gRPC passes through. An upgrade
// the upstream accepts (101, WebSocket) and a CONNECT to an outside host
// become a tunnel: the client's connection and the upstream's spliced, in
// flight until both ends are done or the drain window closes. The
// listeners' servers are package httpx's.
package proxy
