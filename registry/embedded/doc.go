// Package embedded is the default Store: the registry in memory, made durable
// by a write-ahead log with group commit (every acknowledged write is fsynced
// first) and periodic snapshots, restored in full after a restart. It also
// runs lease expiry with a startup grace window and self-preservation.
package embedded
