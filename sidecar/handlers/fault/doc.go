// Package fault is the handler that injects delays and aborts, for testing
// how callers cope. Outbound it applies the target's ServicePolicy fault
// section (faults are injected at the caller, as in Istio); in both
// directions the configured fault applies to services without one.
package fault
