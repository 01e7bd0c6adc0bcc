// Package zookeeper is registrysync's connector for ZooKeeper in the
// Spring Cloud Zookeeper layout: every instance is a node
// <root>/<service>/<id> (root /services by default) holding the JSON
// ServiceInstance record curator-x-discovery writes for Spring, and lives
// as an ephemeral node of its registrant's session.
//
// The source lists the root's children and each service's instance nodes,
// then follows them with child watches (the root, each service) and data
// watches (each instance); every new session, and every reconnection,
// starts with a complete listing again. The sink writes its copies as
// ephemeral nodes of its own session, as Spring apps register, and
// writes them again whenever the session is replaced after an expiry
// (go-zookeeper does not). README.md has the field and status mapping.
package zookeeper
