// Package outlier is the outbound handler that ejects misbehaving
// instances: after Consecutive5xx failures in a row (5xx responses, connect
// failures, resets, timeouts) an instance gets no traffic for
// BaseEjectionTime times its number of ejections, with at most
// MaxEjectionPercent of a service's instances ejected at once (but always
// at least one when the service has two or more). It sits before the load
// balancer: it removes ejected endpoints from the candidates, then learns
// from the outcome of the attempt.
package outlier
