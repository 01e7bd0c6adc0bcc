// Package selfregister keeps one instance of a meshbridge binary (demoapp,
// mockserver) registered in a service registry through that registry's
// real client, as a Spring Cloud or Go application would: hudl/fargo for
// Eureka (register, heartbeat, register again on a 404),
// hashicorp/consul/api for Consul (a TTL check kept passing),
// nacos-sdk-go/v2 for Nacos (an ephemeral instance kept by its gRPC
// connection), go-zookeeper for ZooKeeper (an ephemeral node in Spring
// Cloud Zookeeper's layout, kept by its session) and control.Client for
// the mesh (a lease it renews). A Registrar retries while the registry is
// away and deregisters when its context ends.
package selfregister
