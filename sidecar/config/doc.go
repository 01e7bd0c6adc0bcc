// Package config is the sidecar's configuration: defaults first, then a
// strict YAML decode (an unknown key is an error naming the key and its
// line), then Validate, which joins every problem with its field path.
// Handler sections (`handlers.<name>`) are decoded onto each registered
// handler's own defaults, just as strictly.
package config
