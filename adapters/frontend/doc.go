// Package frontend is the list of registry front-ends (the Eureka, Consul
// and Nacos APIs): each adapter package registers itself once, at init,
// with its configuration (YAML keys, defaults, Validate, flags) and how it
// mounts; registry-adapter and the sidecar's discovery mode both loop over
// Kinds. Importing adapters/install switches every front-end of this
// build on, so adding a protocol touches its own folder and one import
// line there.
package frontend
