// Package registry holds meshbridge's one registry: the service instance model,
// typed resources (routing rules and other control-plane objects), a small
// key/value space, and the interfaces that the embedded and etcd backends
// implement. Every protocol front-end (Eureka, Consul, Nacos, the control API)
// is a view over one registry, which is what makes an instance registered
// through one protocol visible through all the others.
//
// The registry comes in parts, each an interface named for what it holds:
// Instances, Resources, KeyValues and Changes (the revision and watches).
// Users take the part they call, so the part says what they depend on and
// anything that offers it can stand behind them:
//
//   - Store is every part plus Close: what the durable backends implement,
//     registry/storetest checks, the plugin host decorates and the binary
//     that opens one holds.
//   - Discovery (Instances, KeyValues, Changes) is what the Eureka, Consul
//     and Nacos front-ends take, one interface for all three rather than one
//     cut to each: they are built the same way, by registry-adapter over a
//     Store and by the sidecar over its mesh view, and a front-end
//     constructor keeps one store argument. Eureka leaves the keys unused.
//     The sidecar's mesh view implements Discovery and nothing more: rules
//     are not the app's to read or write through its sidecar.
//   - The control API (control.Backend) takes everything but Close; helpers
//     inside a front-end take one part (Nacos config items KeyValues, its
//     config listeners Changes, its service queries Instances).
package registry
