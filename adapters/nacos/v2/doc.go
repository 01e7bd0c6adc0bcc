// Package v2 serves the Nacos 2.x gRPC protocol (the port clients find at
// the HTTP port + 1000): the unary Request service and the BiRequestStream
// service, both carrying a Payload whose body is the JSON of a request or
// response named by Payload.metadata.type. It handles connection setup and
// health checks, naming (register, deregister, batch register, query,
// subscribe with pushed NotifySubscriberRequests, service list) and config
// (query, publish, remove, batch listen with ConfigChangeNotifyRequests).
//
// Ephemeral instances belong to the connection that registered them: they
// are removed and subscribers told when it closes or stops answering. Each
// also holds a registry lease the server renews while the connection lives,
// so the instances expire even if this process dies without cleaning up.
// A connection's registrations of different services are served side by
// side (one connection may carry a syncer's thousand services), and a
// batch's instances are written to the store together.
package v2
