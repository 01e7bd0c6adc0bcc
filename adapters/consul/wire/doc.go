// Package wire holds the JSON shapes of the Consul HTTP API that the consul
// adapter reads and writes, and the strict decoders for request bodies.
//
// Field names are Consul's own (Go field names without tags), because both
// consul/api and Spring Cloud Consul's Jackson models match them exactly.
// Nothing here knows about the registry; mapping lives in the parent package.
package wire
