// Package admin is the sidecar's admin endpoint (127.0.0.1:15000 by
// default): /healthz, /readyz, /metrics, /config (the live routing table and
// the static config as JSON) and, when enabled, /debug/pprof.
package admin
