// Package eureka is registrysync's connector for a Netflix Eureka server,
// through hudl/fargo: its source lists the registry with a full fetch and
// follows it with deltas (reconciled by the apps hashcode, as Eureka's own
// client does), and its sink registers copies as Eureka instances whose
// leases it renews, registering a copy again when a renewal is answered
// 404. README.md has the configuration, the metrics and the mapping.
package eureka
