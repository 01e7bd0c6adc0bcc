// Package runner runs scenarios: it turns a scenario's topology into
// components (registry-adapter, sidecars, demo apps, extra containers from
// images), starts them through a provider (local processes, or containers
// from the e2e module), drives the steps, checks the assertions and returns
// a report. Providers register by name; every component is cleaned up when
// the run ends, however it ends.
package runner
