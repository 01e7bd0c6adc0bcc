// Package nacos is registrysync's Nacos connector, built on the official
// Go client (nacos-sdk-go/v2) as a Nacos 2.x app would use it.
//
// The source lists the services of the configured namespaces and groups
// (GetAllServicesInfo, page by page), subscribes to each for pushes, and
// reports a complete listing every listInterval and a service's group
// whenever a push changes it. Servers list enabled instances only, so an
// instance that vanishes is looked up in the console's catalog (over
// HTTP), which lists disabled ones too: one the server still holds is
// reported disabled instead of removed. The sink writes copies as ephemeral
// instances on a gRPC connection of its own, one service at a time as a
// batch (BatchRegisterInstance), because a Nacos connection holds one
// instance per service unless it registers them together; the copies live
// as long as that connection does. The field and status mapping is the
// one the registry-adapter's Nacos view uses (adapters/nacos/naming), so
// an instance looks the same to a Nacos client whether it reached a real
// Nacos through registrysync or the adapter directly. README.md has the
// tables.
package nacos
