// Command consul is a test shim, not a product binary: it stands in for the
// consul binary that hashicorp/consul/sdk/testutil runs from PATH, so that
// consul/api's own test suite runs against registry-adapter. It answers
// "consul version -format=json" and turns "consul agent -config-file F"
// into a registry-adapter configuration (the Consul front-end on the HTTP
// port F names, nothing else listening) and then becomes registry-adapter,
// so the test's interrupt reaches the adapter itself. It serves nothing.
//
// The adapter binary is $MESHBRIDGE_REGISTRY_ADAPTER, else registry-adapter
// beside this program.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// version is what the shim claims to be: the Consul version the adapter
// reports in /v1/agent/self (adapters/consul).
const version = "1.22.0"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "consul shim:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: consul version -format=json | consul agent -config-file FILE")
	}
	switch args[0] {
	case "version":
		return json.NewEncoder(os.Stdout).Encode(map[string]string{"Version": version, "Revision": "meshbridge"})
	case "agent":
		configFile, err := configFileArg(args[1:])
		if err != nil {
			return err
		}
		return agent(configFile)
	}
	return fmt.Errorf("%s: not served by the shim (only version and agent)", args[0])
}

// configFileArg finds -config-file's value; other agent flags are refused
// so that a test asking for something the shim does not pass on says so.
func configFileArg(args []string) (string, error) {
	if len(args) == 2 && (args[0] == "-config-file" || args[0] == "--config-file") {
		return args[1], nil
	}
	return "", fmt.Errorf("agent: want -config-file FILE and nothing else, got %q", args)
}

func agent(configFile string) error {
	raw, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	var tc testConfig
	if err := json.Unmarshal(raw, &tc); err != nil {
		return fmt.Errorf("%s: %w", configFile, err)
	}
	yaml, err := adapterConfig(&tc)
	if err != nil {
		return fmt.Errorf("%s: %w", configFile, err)
	}
	out := filepath.Join(filepath.Dir(configFile), "registry-adapter.yaml")
	if err := os.WriteFile(out, yaml, 0o600); err != nil {
		return err
	}
	bin, err := adapterBinary()
	if err != nil {
		return err
	}
	return syscall.Exec(bin, []string{bin, "-config", out}, os.Environ())
}

func adapterBinary() (string, error) {
	if p := os.Getenv("MESHBRIDGE_REGISTRY_ADAPTER"); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(self), "registry-adapter")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("registry-adapter not found (set MESHBRIDGE_REGISTRY_ADAPTER): %w", err)
	}
	return p, nil
}
