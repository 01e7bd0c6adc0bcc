package outlier

import (
	"errors"
	"time"
)

// Config holds the defaults for services whose ServicePolicy has no
// outlierDetection section.
type Config struct {
	// Consecutive5xx ejects after this many failures in a row, 0 off (default 5).
	Consecutive5xx int `yaml:"consecutive5xx"`
	// BaseEjectionTime is the first ejection's length; the n-th lasts n times
	// as long, at most MaxEjectionTime (default 30s).
	BaseEjectionTime time.Duration `yaml:"baseEjectionTime"`
	// Interval: each one an instance spends out of ejection takes one off
	// its ejection count, so the next ejection is shorter (default 10s).
	Interval time.Duration `yaml:"interval"`
	// MaxEjectionTime caps one ejection (default 300s).
	MaxEjectionTime time.Duration `yaml:"maxEjectionTime"`
	// MaxEjectionPercent of a service's instances may be ejected at once (default 10).
	MaxEjectionPercent float64 `yaml:"maxEjectionPercent"`
}

// DefaultConfig returns the defaults (Envoy's).
func DefaultConfig() *Config {
	return &Config{Consecutive5xx: 5, Interval: 10 * time.Second, BaseEjectionTime: 30 * time.Second, MaxEjectionTime: 300 * time.Second, MaxEjectionPercent: 10}
}

// Validate implements chain.Config.
func (c *Config) Validate() error {
	var errs []error
	if c.Consecutive5xx < 0 {
		errs = append(errs, errors.New("consecutive5xx: must not be negative"))
	}
	if c.Interval <= 0 {
		errs = append(errs, errors.New("interval: must be > 0"))
	}
	if c.BaseEjectionTime <= 0 || c.MaxEjectionTime < c.BaseEjectionTime {
		errs = append(errs, errors.New("baseEjectionTime: must be > 0 and at most maxEjectionTime"))
	}
	if c.MaxEjectionPercent < 0 || c.MaxEjectionPercent > 100 {
		errs = append(errs, errors.New("maxEjectionPercent: must be 0-100"))
	}
	return errors.Join(errs...)
}
