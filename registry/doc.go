// Package registry holds meshbridge's one registry: the service instance model,
// typed resources (routing rules and other control-plane objects), a small
// key/value space, and the Store interface that the embedded and etcd backends
// implement. Every protocol front-end (Eureka, Consul, Nacos, the control API)
// is a view over a Store, which is what makes an instance registered through
// one protocol visible through all the others.
package registry
