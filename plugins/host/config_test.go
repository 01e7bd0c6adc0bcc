package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/config/configtest"
	"github.com/meshbridge/meshbridge/plugins/host"
)

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "plugin")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExe := filepath.Join(dir, "data")
	if err := os.WriteFile(notExe, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("ab", 32)
	ok := host.Config{Name: "p", Path: exe, SHA256: sum}
	tests := []struct {
		name    string
		cfgs    []host.Config
		wantErr []string
	}{
		{"ok", []host.Config{ok}, nil},
		{"everything missing", []host.Config{{}}, []string{"plugins[0].name:", "plugins[0].path: required", "plugins[0].sha256: required"}},
		{"bad name", []host.Config{mod(ok, func(c *host.Config) { c.Name = "a b" })}, []string{"plugins[0].name:"}},
		{"missing binary", []host.Config{mod(ok, func(c *host.Config) { c.Path = filepath.Join(dir, "nope") })}, []string{"plugins[0].path:", "no such file"}},
		{"not executable", []host.Config{mod(ok, func(c *host.Config) { c.Path = notExe })}, []string{"is not an executable file"}},
		{"short checksum", []host.Config{mod(ok, func(c *host.Config) { c.SHA256 = "abcd" })}, []string{"plugins[0].sha256:"}},
		{"bad policy", []host.Config{mod(ok, func(c *host.Config) { c.FailurePolicy = "sometimes" })}, []string{`plugins[0].failurePolicy: must be "closed" or "open"`}},
		{"negative timeout", []host.Config{mod(ok, func(c *host.Config) { c.Timeout = control.Duration(-time.Second) })}, []string{"plugins[0].timeout: must not be negative"}},
		{"reserved env", []host.Config{mod(ok, func(c *host.Config) { c.Env = map[string]string{"PLUGIN_MIN_PORT": "1"} })}, []string{"plugins[0].env.PLUGIN_MIN_PORT: reserved"}},
		{"backoff above max", []host.Config{mod(ok, func(c *host.Config) {
			c.RestartBackoff, c.RestartMaxDelay = control.Duration(time.Minute), control.Duration(time.Second)
		})}, []string{"plugins[0].restartMaxDelay:"}},
		{"duplicate names", []host.Config{ok, ok}, []string{`plugins[1].name: "p" is already used by plugins[0]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := host.ValidateAll(tt.cfgs)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func mod(c host.Config, f func(*host.Config)) host.Config {
	f(&c)
	return c
}

func TestConfigDefaults(t *testing.T) {
	c := host.Config{}.WithDefaults()
	if c.Timeout.D() != host.DefaultTimeout || c.FailurePolicy != host.FailClosed || c.StartTimeout.D() != host.DefaultStartTimeout ||
		c.HealthInterval.D() != host.DefaultHealthInterval || c.RestartBackoff.D() != host.DefaultRestartBackoff {
		t.Fatalf("defaults not applied: %+v", c)
	}
}

// loadPlugins decodes a "plugins:" document strictly, as the binaries do.
func loadPlugins(path string) ([]host.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var doc struct {
		Plugins []host.Config `yaml:"plugins"`
	}
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	return doc.Plugins, host.ValidateAll(doc.Plugins)
}

func TestConfigFiles(t *testing.T) {
	cfgs, err := loadPlugins("testdata/plugins.yaml")
	if err != nil {
		t.Fatalf("testdata/plugins.yaml: %v", err)
	}
	if len(cfgs) != 2 || cfgs[0].Timeout.D() != 100*time.Millisecond || cfgs[1].FailurePolicy != host.FailOpen ||
		cfgs[1].RestartMaxDelay.D() != time.Minute || cfgs[0].Env["JWT_HS256_SECRET"] == "" {
		t.Fatalf("decoded %+v", cfgs)
	}

	configtest.RejectsBad(t, func(_ *testing.T, path string) error {
		_, err := loadPlugins(path)
		return err
	})
}
