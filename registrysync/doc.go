// Package registrysync bridges registries: it keeps copies of the
// instances of one registry in another (a legacy Eureka, Consul, Nacos or
// ZooKeeper registry and the mesh), one way or both, while services move
// to the mesh one by one.
//
// The package holds the contract every connector meets (connector.go), the
// engine that turns what a Source reports into writes on a Sink under the
// safety rules of docs/registrysync.md, and the kinds registry. Each
// registry's connector is a folder of its own (registrysync/eureka,
// registrysync/consul, ...), registered by importing
// registrysync/install, as Prometheus discovery mechanisms are.
package registrysync
