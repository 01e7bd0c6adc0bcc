// Package consul serves the HashiCorp Consul HTTP API (agent, catalog,
// health, status and KV endpoints) as a view of one registry.Discovery, so that
// Spring Cloud Consul and hashicorp/consul/api clients can register,
// heartbeat, discover and read configuration through meshbridge.
//
// The adapter plays one Consul agent that is also the only server: one
// datacenter, one node. It runs the HTTP and TCP checks of the services
// registered through it, expires TTL checks and reaps services that stayed
// critical past DeregisterCriticalServiceAfter. Instances registered through
// other protocols appear in the catalog and health views with a check
// synthesised from their status. docs/adapters/consul.md has the mapping.
package consul
