// Command demoapp is the small service the scenarios and `make run` deploy:
// it registers itself through a real registry client (Eureka, Consul, Nacos
// or the control API), answers with its service, version and instance, calls
// downstream services through its sidecar, propagates the canary and shadow
// headers, and adds latency or errors when told to (flags, request headers or
// its /_demo/fault endpoint).
package main

import "github.com/meshbridge/meshbridge/internal/app"

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() { app.Main(command) }
