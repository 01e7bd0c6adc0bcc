package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The configuration testutil wrote for a consul/api test (testdata, taken
// from a run) becomes registry-adapter's: Consul alone, on the HTTP port
// and with the node the test chose, the store in its data directory.
func TestAdapterConfigFromTestutil(t *testing.T) {
	raw, err := os.ReadFile("testdata/testutil-config.json")
	if err != nil {
		t.Fatal(err)
	}
	var tc testConfig
	if err := json.Unmarshal(raw, &tc); err != nil {
		t.Fatal(err)
	}
	tc.NodeMeta = map[string]string{"somekey": "somevalue"}
	out, err := adapterConfig(&tc)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Store struct {
			Embedded struct{ Dir string }
		}
		Control, Eureka, Nacos struct{ Listen string }
		Consul                 struct {
			Listen   string
			NodeName string            `yaml:"nodeName"`
			NodeID   string            `yaml:"nodeID"`
			NodeMeta map[string]string `yaml:"nodeMeta"`
		}
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("%v in\n%s", err, out)
	}
	c := cfg.Consul
	if c.Listen != "127.0.0.1:23518" || c.NodeName != "node-e7ed992c-8266-484a-579d-b6aca22da349" ||
		c.NodeID != "e7ed992c-8266-484a-579d-b6aca22da349" || c.NodeMeta["somekey"] != "somevalue" {
		t.Errorf("consul section = %+v", c)
	}
	if cfg.Store.Embedded.Dir != "/tmp/TestAPI_AgentReload4087247796/data" {
		t.Errorf("store dir = %q", cfg.Store.Embedded.Dir)
	}
	if cfg.Control.Listen != "" || cfg.Eureka.Listen != "" || cfg.Nacos.Listen != "" {
		t.Errorf("other listeners enabled: %s", out)
	}
}

// What the adapter cannot serve is refused, naming the setting.
func TestAdapterConfigRefusals(t *testing.T) {
	for want, tc := range map[string]testConfig{
		"ports.http": {DataDir: "/tmp/x"},
		"data_dir": {Ports: struct {
			HTTP int `json:"http"`
		}{8500}},
		"addresses.http": {DataDir: "/tmp/x", Ports: struct {
			HTTP int `json:"http"`
		}{8500}, Addresses: struct {
			HTTP string `json:"http"`
		}{"unix:///tmp/s"}},
	} {
		if _, err := adapterConfig(&tc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config without %s: %v", want, err)
		}
	}
	if _, err := configFileArg([]string{"-config-file", "f", "-dev"}); err == nil {
		t.Error("extra agent flags accepted")
	}
}
