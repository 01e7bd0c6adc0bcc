// Package plugin is the chain slot for out-of-process plugins. The plugin
// host (plugins/host, built separately) registers itself with SetHost; the
// handler then hands each request to the configured plugins, which may
// change it or answer it. With no plugins configured the handler only calls
// next, so listing it in a chain costs one function call.
package plugin
