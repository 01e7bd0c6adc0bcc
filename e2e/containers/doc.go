// Package containers is the scenario runner's container provider: every
// component runs in a container built locally from build/docker/*.Dockerfile
// (FROM scratch, static binaries; nothing is pulled), on one Docker network
// per scenario, with each app sharing its sidecar's network namespace as in
// a pod. It uses testcontainers-go with Ryuk disabled; every container and
// the network are removed when the run ends. Importing the package
// registers the provider as "container".
package containers
