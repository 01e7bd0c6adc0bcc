package sidecar

// The handlers this build knows: importing a handler package registers it
// with the chain under its name. This list is the one place that switches
// handlers on; configs then order them per direction.
import (
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/breaker"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/fault"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/headers"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/loadbalance"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/mirror"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/outlier"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/plugin"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/ratelimit"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/retry"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/router"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/timeout"
	_ "github.com/meshbridge/meshbridge/sidecar/handlers/transport"
)
