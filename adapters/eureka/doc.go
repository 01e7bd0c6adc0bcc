// Package eureka serves the Netflix Eureka REST API as a view of one
// registry.Discovery, well enough that unmodified Spring Cloud Netflix clients
// and hudl/fargo cannot tell it from a real Eureka server: registration,
// heartbeats with 404-means-register-again, cancel, status overrides,
// metadata updates, full and delta fetches with Eureka's reconcile hash
// code, per-app, per-instance and VIP lookups, in Eureka's JSON and XML
// layouts, under /eureka/, /eureka/v1/ and /eureka/v2/, plus a status page
// at /.
//
// Instances registered through other protocols appear here too, mapped as
// docs/adapters/eureka.md describes. Lease expiry is the store's job; this
// package turns leaseInfo into the instance's registry.Lease and renews it.
//
// A Server is built with New, serves requests through Handler (or Serve),
// and needs Run to follow the store: Run keeps the in-memory view that
// bulk reads and the delta are served from.
package eureka
