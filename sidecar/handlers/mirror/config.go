package mirror

import (
	"errors"
	"time"
)

// Config configures the mirror handler.
type Config struct {
	// QueueSize is the number of copies waiting to be sent (default 1024).
	QueueSize int `yaml:"queueSize"`
	// Workers send copies concurrently (default 4).
	Workers int `yaml:"workers"`
	// MaxBody is the largest request body in bytes that is copied (default 65536).
	MaxBody int64 `yaml:"maxBody"`
	// Timeout bounds one mirrored request (default 5s).
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{QueueSize: 1024, Workers: 4, MaxBody: 64 << 10, Timeout: 5 * time.Second}
}

// Validate implements chain.Config.
func (c *Config) Validate() error {
	var errs []error
	if c.QueueSize < 1 || c.QueueSize > 1<<20 {
		errs = append(errs, errors.New("queueSize: must be 1-1048576"))
	}
	if c.Workers < 1 || c.Workers > 1024 {
		errs = append(errs, errors.New("workers: must be 1-1024"))
	}
	if c.MaxBody < 0 {
		errs = append(errs, errors.New("maxBody: must not be negative"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be > 0"))
	}
	return errors.Join(errs...)
}
