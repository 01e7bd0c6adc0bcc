// Package serve runs a binary's HTTP listeners the same way everywhere:
// server timeouts, a base context that long-polls watch so they end at
// shutdown, and a graceful drain bounded by a deadline.
package serve
