// Package control is meshbridge's native control API: the resource kinds
// (routing rules, policies) and their validation, the JSON-over-HTTP server
// that registry-adapter mounts on :8700, and the Go client that the sidecar,
// registrysync, meshctl, mockserver and the scenario runner use.
package control
