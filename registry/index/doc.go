// Package index is the in-memory half of every Store: the indexed state
// (instances by key and by service, resources, KV) that answers reads, and
// the hub that keeps recent events and feeds watchers. The embedded backend
// applies its own writes to it; the etcd backend applies what etcd's watch
// tells it, so both answer reads and watches with the same code.
package index
