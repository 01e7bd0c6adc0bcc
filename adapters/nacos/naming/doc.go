// Package naming maps Nacos naming data to the one registry and back: the
// wire shapes of Nacos instances and service infos, the field mapping to
// registry.Instance, and the queries (service info, service list) that the
// v1 HTTP and v2 gRPC front-ends share.
package naming
