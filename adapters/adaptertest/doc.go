// Package adaptertest runs a registry front-end (Eureka, Consul, Nacos) in
// a test as registry-adapter runs it: over a real embedded store in a
// temporary directory, with its loops running and its HTTP API on a
// loopback listener, and everything stopped, and checked to have stopped
// cleanly, when the test ends. Run is the conformance suite every
// front-end passes, in the manner of registry/storetest. What belongs to
// one protocol (its clients, its request builders) stays in that
// front-end's own tests.
package adaptertest
