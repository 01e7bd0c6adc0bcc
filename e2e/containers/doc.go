// Package containers is the scenario runner's container provider: every
// meshbridge component runs in a container built locally from
// build/docker/*.Dockerfile (FROM scratch, static binaries; nothing of
// ours is pulled), on one Docker network per scenario, with each app
// sharing its sidecar's network namespace as in a pod. Extra containers a
// scenario names (topology.containers: a real Consul, Nacos or Eureka
// server) run from their images, pulled through testcontainers only when
// they are not on the machine; a legacy ZooKeeper runs from
// meshbridge/zookeeper:3.8, made here by make zookeeper-image and never
// pulled (missing, the run is skipped). It uses testcontainers-go with Ryuk
// disabled; every container and the network are removed when the run
// ends. Importing the package registers the provider as "container".
package containers
