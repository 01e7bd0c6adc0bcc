// Package legacytest runs legacy registries on loopback for registrysync's
// tests and benchmarks. Real Eureka, Consul and Nacos servers cannot be
// fetched here: each stand-in is registry-adapter serving that one
// protocol (single-protocol mode) over its own embedded store, which the
// connectors and the apps reach with their real clients (hudl/fargo,
// hashicorp/consul/api, nacos-sdk-go/v2). ZooKeeper is the real server
// (internal/zookeepertest). Each stand-in's Config is its connector's
// configuration with intervals short enough for tests.
package legacytest
