// Package storetest is the conformance suite every registry.Store backend
// must pass. Backends call Run from their own tests with a factory that
// returns a fresh, empty store.
package storetest
