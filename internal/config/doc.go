// Package config loads meshbridge's YAML configuration files the same way for
// every binary: defaults first, then a strict decode in which an unknown key
// is an error naming the key and its line, then the caller's validation.
package config
