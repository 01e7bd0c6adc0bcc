package retry

import (
	"errors"
	"fmt"
	"time"

	"github.com/meshbridge/meshbridge/sidecar/table"
)

// Config holds the defaults for services whose ServicePolicy has no retry
// section (and for the fields a policy leaves at zero).
type Config struct {
	// Attempts is the number of retries after the first try (default 2; 0 turns retries off).
	Attempts int `yaml:"attempts"`
	// RetryOn lists connect-failure, reset, 5xx, gateway-error or status codes (default [connect-failure]).
	RetryOn []string `yaml:"retryOn"`
	// Methods that may be retried on a response or reset (default the
	// idempotent ones). Connect failures are retried for every method:
	// nothing was sent.
	Methods []string `yaml:"methods"`
	// PerTryTimeout bounds each attempt, 0 for none (default 0).
	PerTryTimeout time.Duration `yaml:"perTryTimeout"`
	// Backoff is the base wait before a retry, jittered up to twice that (default 25ms).
	Backoff time.Duration `yaml:"backoff"`
	// BudgetPercent caps retries at this share of requests over 10 s (default 20).
	BudgetPercent float64 `yaml:"budgetPercent"`
	// MinRetriesPerSecond are allowed whatever the budget (default 10).
	MinRetriesPerSecond float64 `yaml:"minRetriesPerSecond"`
	// MaxReplayBody is the largest request body in bytes kept in memory so it
	// can be sent again; larger bodies are sent once (default 65536).
	MaxReplayBody int64 `yaml:"maxReplayBody"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{
		Attempts: 2, RetryOn: []string{"connect-failure"}, Backoff: 25 * time.Millisecond,
		BudgetPercent: 20, MinRetriesPerSecond: 10, MaxReplayBody: 64 << 10,
	}
}

// Validate implements chain.Config.
func (c *Config) Validate() error {
	var errs []error
	if c.Attempts < 0 || c.Attempts > 10 {
		errs = append(errs, fmt.Errorf("attempts: must be 0-10, got %d", c.Attempts))
	}
	if _, err := table.ParseRetryOn(c.RetryOn); err != nil {
		errs = append(errs, err)
	}
	if c.PerTryTimeout < 0 || c.Backoff < 0 {
		errs = append(errs, errors.New("perTryTimeout, backoff: must not be negative"))
	}
	if c.BudgetPercent < 0 || c.BudgetPercent > 100 {
		errs = append(errs, fmt.Errorf("budgetPercent: must be 0-100, got %v", c.BudgetPercent))
	}
	if c.MinRetriesPerSecond < 0 {
		errs = append(errs, errors.New("minRetriesPerSecond: must not be negative"))
	}
	if c.MaxReplayBody < 0 || c.MaxReplayBody > 64<<20 {
		errs = append(errs, errors.New("maxReplayBody: must be 0-67108864"))
	}
	return errors.Join(errs...)
}
