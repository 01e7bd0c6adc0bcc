// Package metrics holds the sidecar's Prometheus metrics in one Set, so the
// handlers, listeners and the admin endpoint share one registry and the
// metric names live in one place.
package metrics
