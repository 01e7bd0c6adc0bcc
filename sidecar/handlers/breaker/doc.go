// Package breaker is the outbound circuit breaker, one per target service.
// Closed, it counts outcomes; after ConsecutiveFailures failures in a row,
// or an error rate at or above ErrorRatePercent over Window with at least
// MinRequests requests, it opens and answers 503 at once. After
// OpenDuration it is half-open: HalfOpenRequests probes go through; if they
// all succeed it closes, if one fails it opens again. Failures are 5xx
// responses and requests that got no response.
//
// Per-instance ejection is the outlier handler's job; the breaker protects
// the caller from a service that is down as a whole.
package breaker
