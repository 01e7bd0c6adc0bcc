// Package config keeps Nacos configuration items in the registry's key/value
// space (one key per namespace, group and dataId, the raw content as value,
// so the Consul KV view shows the same text) and tells listeners when an
// item changes, for v1 long-polling and v2 change pushes.
package config
