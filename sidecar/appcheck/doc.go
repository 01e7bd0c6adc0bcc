// Package appcheck probes the local app (an HTTP request with a status and
// body match, or a TCP connect) at an interval and reports when the app
// turns healthy or unhealthy after the configured number of results in a
// row. The sidecar turns the report into a DOWN override (or its removal)
// on the app's instances in the registry.
package appcheck
