// Package servetest holds what tests of HTTP listeners and clients share:
// a client that stalls its request body, to see how a listener bounds
// it; a raw client connection that sends bytes as written and reads
// answers as they come; and a raw TCP server for upstreams that misbehave
// on purpose.
package servetest
