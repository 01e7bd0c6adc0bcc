// Package nacos serves the Alibaba Nacos APIs as a view of the one
// registry: the v1 HTTP API (/nacos/v1/ns, /nacos/v1/cs, /nacos/v1/auth)
// that Nacos 1.x clients use, and the v2 gRPC protocol that nacos-sdk-go v2
// and the Java client 2.x (Spring Cloud Alibaba 2021+) use, on the HTTP
// port + 1000 by default. Instances registered here are visible through
// every other front-end and the reverse; config items live in the store's
// key/value space. See docs/adapters/nacos.md for the mapping.
package nacos
