// Package servetest holds what tests of HTTP listeners share: a client
// that stalls its request body, to see how a listener bounds it.
package servetest
