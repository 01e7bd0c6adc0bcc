package timeout

import "errors"
import "time"

// Config configures the timeout handler.
type Config struct {
	// Default bounds calls to services whose policy sets no timeout, 0 for
	// none (default 15s, as Envoy's route timeout).
	Default time.Duration `yaml:"default"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{Default: 15 * time.Second} }

// Validate implements chain.Config.
func (c *Config) Validate() error {
	if c.Default < 0 {
		return errors.New("default: must not be negative")
	}
	return nil
}
