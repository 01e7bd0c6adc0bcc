// Package process is the scenario runner's default provider: every
// component is a local process on loopback ports, with its output kept in a
// log file per component, fault proxies in front of the components a
// scenario names, and every process stopped when the run ends (each runs in
// its own process group and dies with the runner).
package process
