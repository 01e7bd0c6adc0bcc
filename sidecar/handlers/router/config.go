package router

import "fmt"

// Shadow fallbacks: what a shadow request does when the target has no
// healthy shadow instance.
const (
	ShadowFallbackStable = "stable" // route it like any other request
	ShadowFallbackFail   = "fail"   // answer 503
)

// Config configures the router.
type Config struct {
	// ShadowFallback is "stable" (default) or "fail".
	ShadowFallback string `yaml:"shadowFallback"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{ShadowFallback: ShadowFallbackStable} }

// Validate implements chain.Config.
func (c *Config) Validate() error {
	if c.ShadowFallback != ShadowFallbackStable && c.ShadowFallback != ShadowFallbackFail {
		return fmt.Errorf("shadowFallback: must be %q or %q, got %q", ShadowFallbackStable, ShadowFallbackFail, c.ShadowFallback)
	}
	return nil
}
