// Package etcd is the registry.Store for users who outgrow one machine:
// several registry-adapter replicas share one etcd v3 cluster. etcd is the
// source of truth (revisions are etcd's, writes are compare-and-set
// transactions, ephemeral instances hold etcd leases); each replica keeps a
// local index fed by an etcd watch to answer reads and watches quickly.
// Lead (registry.Elector) elects one replica for work that must run once,
// with an etcd session and election kept beside the key prefix.
package etcd
