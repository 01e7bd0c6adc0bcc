package registrysync_test

import (
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hudl/fargo"

	"github.com/meshbridge/meshbridge/internal/zookeepertest"
	"github.com/meshbridge/meshbridge/registrysync"
	"github.com/meshbridge/meshbridge/registrysync/legacytest"
)

// Legacy registries for the pair tests, as registry entries: the
// stand-ins of legacytest (registry-adapter in single-protocol mode, since
// real Eureka, Consul and Nacos servers cannot be fetched here) and a real
// ZooKeeper.

// eurekaLegacy starts a Eureka stand-in and returns its registry entry,
// named name, and a fargo connection to it as an app has one.
func eurekaLegacy(t *testing.T, name string) (registrysync.RegistryConfig, *fargo.EurekaConnection) {
	e := legacytest.StartEureka(t)
	return registrysync.RegistryConfig{Name: name, Type: "eureka", Settings: e.Config()}, e.Conn()
}

// consulLegacy starts a Consul stand-in and returns its registry entry,
// named name, and a consul/api client of it.
func consulLegacy(t *testing.T, name string) (registrysync.RegistryConfig, *api.Client) {
	c := legacytest.StartConsul(t)
	return registrysync.RegistryConfig{Name: name, Type: "consul", Settings: c.Config()}, c.Client(t)
}

// nacosRegistry is n's registry entry, named name.
func nacosRegistry(n *legacytest.Nacos, name string) registrysync.RegistryConfig {
	return registrysync.RegistryConfig{Name: name, Type: "nacos", Settings: n.Config()}
}

// zookeeperLegacy starts a real ZooKeeper and returns its registry entry,
// named name, with the server (skipped where ZooKeeper is not installed).
func zookeeperLegacy(t *testing.T, name string) (registrysync.RegistryConfig, *zookeepertest.Server) {
	srv := zookeepertest.Start(t)
	return registrysync.RegistryConfig{Name: name, Type: "zookeeper", Settings: legacytest.ZooKeeperConfig(srv)}, srv
}
