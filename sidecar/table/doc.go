// Package table is the sidecar's compiled routing table: every known service
// with its healthy instances grouped into pools (stable, canary, split
// subsets, shadow, mirror) and its policy, built once from a snapshot of
// instances and rules and swapped atomically behind a Holder. A request reads
// one *Table at entry and uses it to the end, so it never sees half of a
// change.
package table
