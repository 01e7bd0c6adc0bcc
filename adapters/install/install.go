// Package install switches on every registry front-end this build has:
// importing a front-end's package registers it with adapters/frontend.
// registry-adapter and the sidecar import this package; a new protocol is
// its own folder under adapters/ plus one line here.
package install

import (
	_ "github.com/meshbridge/meshbridge/adapters/consul"
	_ "github.com/meshbridge/meshbridge/adapters/eureka"
	_ "github.com/meshbridge/meshbridge/adapters/nacos"
)
