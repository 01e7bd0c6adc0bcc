// Package ratelimit is the token-bucket handler for both directions.
// Outbound, one bucket per target service limits what this sidecar sends
// (ServicePolicy rateLimit.outbound of the target); inbound, one bucket
// limits what reaches the local app (rateLimit.inbound of the local
// service's policy). Without a policy the configured rps applies (0: no
// limit). Refused requests get 429 at once; nothing queues.
package ratelimit
