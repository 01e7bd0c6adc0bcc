package breaker

import (
	"errors"
	"time"
)

// Config holds the defaults for services whose ServicePolicy has no
// circuitBreaker section, and for the fields a policy leaves at zero. With
// both thresholds at 0 (the default) services without a policy have no breaker.
type Config struct {
	// ConsecutiveFailures opens the breaker after this many failures in a row, 0 off (default 0).
	ConsecutiveFailures int `yaml:"consecutiveFailures"`
	// ErrorRatePercent opens the breaker at this error rate over Window, 0 off (default 0).
	ErrorRatePercent float64 `yaml:"errorRatePercent"`
	// MinRequests in Window before the error rate counts (default 20).
	MinRequests int `yaml:"minRequests"`
	// Window over which the error rate is measured (default 10s).
	Window time.Duration `yaml:"window"`
	// OpenDuration before the breaker lets probes through (default 5s).
	OpenDuration time.Duration `yaml:"openDuration"`
	// HalfOpenRequests is the number of probes that must succeed to close (default 1).
	HalfOpenRequests int `yaml:"halfOpenRequests"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{MinRequests: 20, Window: 10 * time.Second, OpenDuration: 5 * time.Second, HalfOpenRequests: 1}
}

// Validate implements chain.Config.
func (c *Config) Validate() error {
	var errs []error
	if c.ConsecutiveFailures < 0 {
		errs = append(errs, errors.New("consecutiveFailures: must not be negative"))
	}
	if c.ErrorRatePercent < 0 || c.ErrorRatePercent > 100 {
		errs = append(errs, errors.New("errorRatePercent: must be 0-100"))
	}
	if c.MinRequests < 1 {
		errs = append(errs, errors.New("minRequests: must be > 0"))
	}
	if c.Window < time.Second {
		errs = append(errs, errors.New("window: must be at least 1s"))
	}
	if c.OpenDuration <= 0 {
		errs = append(errs, errors.New("openDuration: must be > 0"))
	}
	if c.HalfOpenRequests < 1 {
		errs = append(errs, errors.New("halfOpenRequests: must be > 0"))
	}
	return errors.Join(errs...)
}
