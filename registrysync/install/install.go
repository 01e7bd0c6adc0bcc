// Package install switches on every registrysync connector this build
// has: importing a connector's package registers its kind with
// registrysync. cmd/registrysync imports this package; a new registry is
// its own folder under registrysync/ plus one line here.
package install

import (
	_ "github.com/meshbridge/meshbridge/registrysync/consul" // Consul, through hashicorp/consul/api
	_ "github.com/meshbridge/meshbridge/registrysync/eureka" // Eureka, through hudl/fargo
	_ "github.com/meshbridge/meshbridge/registrysync/mesh"   // the mesh, through the control API
	_ "github.com/meshbridge/meshbridge/registrysync/nacos"
	_ "github.com/meshbridge/meshbridge/registrysync/zookeeper" // ZooKeeper, through go-zookeeper/zk
)
