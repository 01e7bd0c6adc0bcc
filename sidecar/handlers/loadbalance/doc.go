// Package loadbalance is the outbound handler that picks one endpoint from
// the router's candidates: round robin, weighted random by registry weight,
// least request (power of two choices) or consistent hash on a header or
// cookie (rendezvous hashing, so every sidecar maps a key to the same
// instance and an ejected instance only moves its own keys).
package loadbalance
