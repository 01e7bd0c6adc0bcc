// Package mirror is the outbound handler that copies a share of a
// service's requests (MirrorRule percent) to a mirror pool: a subset of the
// service or another service. Copies carry X-Mesh-Shadow: true, go through a
// bounded queue to a few workers and their responses are dropped, so the
// primary request never waits for them or sees their errors. When the queue
// is full or the body is too large to copy, the copy is dropped and counted.
package mirror
