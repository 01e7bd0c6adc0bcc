// Package meshview is discovery mode's registry: a registry.Discovery that the
// Eureka, Consul and Nacos front-ends (adapters/*) are mounted over on
// localhost, so an unchanged Spring Cloud app talks to its own registry
// client and still sends every call through the sidecar.
//
//   - Writes are the app's own registration. The view rewrites the address
//     to the sidecar's ingress (so callers reach the app through its
//     sidecar) and forwards the write to the control plane; renewals, status
//     overrides and deregistration are forwarded too.
//   - Reads and watches answer from a local index in which every mesh
//     service appears as one instance at a loopback endpoint of this
//     sidecar, a port unique to that service (Allocator). A connection to
//     that port is routed to that service whatever Host header the client
//     sends. The app's own instances appear there too, at their service's
//     loopback endpoint.
//   - Keys (Consul KV, Nacos config) are the control plane's: reads and
//     writes are forwarded, and RunKV brings the control plane's key
//     changes into the view's watch stream so blocking queries and config
//     listeners wake.
package meshview
