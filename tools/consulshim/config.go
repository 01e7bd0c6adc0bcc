package main

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// testConfig is the part of testutil.TestServerConfig the shim passes on;
// the rest (serf, raft, gRPC, Connect, peering) has no counterpart in the
// adapter and is ignored.
type testConfig struct {
	NodeName   string            `json:"node_name"`
	NodeID     string            `json:"node_id"`
	NodeMeta   map[string]string `json:"node_meta"`
	DataDir    string            `json:"data_dir"`
	Datacenter string            `json:"datacenter"`
	Bind       string            `json:"bind_addr"`
	Ports      struct {
		HTTP int `json:"http"`
	} `json:"ports"`
	Addresses struct {
		HTTP string `json:"http"`
	} `json:"addresses"`
	ACL struct {
		Enabled bool `json:"enabled"`
		Tokens  struct {
			Master string `json:"master"`
		} `json:"tokens"`
	} `json:"acl"`
}

// adapterConfig is registry-adapter's configuration for tc: the embedded
// store in the test's data directory and only the Consul front-end.
func adapterConfig(tc *testConfig) ([]byte, error) {
	if tc.Ports.HTTP <= 0 {
		return nil, errors.New("ports.http: missing (the shim serves only the HTTP API)")
	}
	if tc.Addresses.HTTP != "" {
		return nil, fmt.Errorf("addresses.http: %q not supported (the adapter listens on bind_addr and ports.http, TCP only)", tc.Addresses.HTTP)
	}
	if tc.DataDir == "" {
		return nil, errors.New("data_dir: missing")
	}
	bind := tc.Bind
	if bind == "" {
		bind = "127.0.0.1"
	}
	consul := map[string]any{
		"listen":      fmt.Sprintf("%s:%d", bind, tc.Ports.HTTP),
		"nodeAddress": bind,
	}
	if tc.NodeName != "" {
		consul["nodeName"] = tc.NodeName
	}
	if tc.NodeID != "" {
		consul["nodeID"] = tc.NodeID
	}
	if tc.Datacenter != "" {
		consul["datacenter"] = tc.Datacenter
	}
	if len(tc.NodeMeta) > 0 {
		consul["nodeMeta"] = tc.NodeMeta
	}
	if tc.ACL.Enabled && tc.ACL.Tokens.Master != "" {
		consul["aclToken"] = tc.ACL.Tokens.Master
	}
	cfg := map[string]any{
		"store":   map[string]any{"embedded": map[string]any{"dir": tc.DataDir}},
		"control": map[string]any{"listen": ""},
		"eureka":  map[string]any{"listen": ""},
		"nacos":   map[string]any{"listen": ""},
		"consul":  consul,
		// testutil waits 10s for the agent to stop; parked blocking
		// queries must not hold the drain longer.
		"http": map[string]any{"shutdownTimeout": "2s"},
		"log":  map[string]any{"level": "warn"},
	}
	return yaml.Marshal(cfg)
}
