package ratelimit

import "errors"

// Config holds the default bucket for services without a policy rate limit.
type Config struct {
	// RPS is the sustained rate in requests per second, 0 for no limit (default 0).
	RPS float64 `yaml:"rps"`
	// Burst is the bucket size; 0 means max(1, rps) (default 0).
	Burst int `yaml:"burst"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{} }

// Validate implements chain.Config.
func (c *Config) Validate() error {
	if c.RPS < 0 || c.Burst < 0 {
		return errors.New("rps, burst: must not be negative")
	}
	return nil
}
