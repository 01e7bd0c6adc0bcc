package fault

import (
	"errors"
	"time"
)

// Config is the default fault, off unless a percentage is set.
type Config struct {
	// DelayPercent of requests wait Delay before going on (default 0).
	DelayPercent float64 `yaml:"delayPercent"`
	// Delay is the injected wait (default 0).
	Delay time.Duration `yaml:"delay"`
	// AbortPercent of requests get AbortStatus at once (default 0).
	AbortPercent float64 `yaml:"abortPercent"`
	// AbortStatus is the injected status (default 503).
	AbortStatus int `yaml:"abortStatus"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{AbortStatus: 503} }

// Validate implements chain.Config.
func (c *Config) Validate() error {
	var errs []error
	if c.DelayPercent < 0 || c.DelayPercent > 100 || c.AbortPercent < 0 || c.AbortPercent > 100 {
		errs = append(errs, errors.New("delayPercent, abortPercent: must be 0-100"))
	}
	if c.DelayPercent > 0 && c.Delay <= 0 {
		errs = append(errs, errors.New("delay: must be > 0 when delayPercent is set"))
	}
	if c.AbortStatus < 200 || c.AbortStatus > 599 {
		errs = append(errs, errors.New("abortStatus: must be 200-599"))
	}
	return errors.Join(errs...)
}
