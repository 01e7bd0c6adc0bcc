// Package consul is registrysync's connector for HashiCorp Consul, through
// hashicorp/consul/api: its source lists the catalog and follows it with
// blocking queries (the service list, then each service's health), and
// its sink registers copies as services of the agent it talks to, each
// with a TTL check it keeps passing, so that a copy lapses and is reaped
// when its syncer is gone. README.md has the configuration, the metrics,
// the mapping and how a DOWN instance is carried.
package consul
