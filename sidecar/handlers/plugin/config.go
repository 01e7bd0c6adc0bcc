package plugin

import (
	"errors"
	"fmt"
)

// Config lists the plugins to run, in order.
type Config struct {
	// Plugins are plugin names known to the plugin host (default none).
	Plugins []string `yaml:"plugins"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{} }

// Validate implements chain.Config.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for i, p := range c.Plugins {
		if p == "" {
			return fmt.Errorf("plugins[%d]: must not be empty", i)
		}
		if seen[p] {
			return fmt.Errorf("plugins[%d]: %q listed twice", i, p)
		}
		seen[p] = true
	}
	if len(c.Plugins) > 0 && currentHost() == nil {
		return errors.New("plugins: this build has no plugin host")
	}
	return nil
}
