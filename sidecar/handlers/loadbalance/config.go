package loadbalance

import (
	"fmt"

	"github.com/meshbridge/meshbridge/control"
)

// Config configures the load balancer.
type Config struct {
	// Policy is the default for services without a ServicePolicy
	// loadBalancer: round_robin (default), weighted_random, least_request,
	// consistent_hash.
	Policy string `yaml:"policy"`
	// HashHeader or HashCookie is the key for a default consistent_hash.
	HashHeader string `yaml:"hashHeader"`
	HashCookie string `yaml:"hashCookie"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{Policy: control.LBRoundRobin} }

// Validate implements chain.Config.
func (c *Config) Validate() error {
	switch c.Policy {
	case control.LBRoundRobin, control.LBWeightedRandom, control.LBLeastRequest:
	case control.LBConsistentHash:
		if (c.HashHeader == "") == (c.HashCookie == "") {
			return fmt.Errorf("policy: consistent_hash needs exactly one of hashHeader, hashCookie")
		}
	default:
		return fmt.Errorf("policy: must be one of %s, %s, %s, %s; got %q", control.LBRoundRobin, control.LBWeightedRandom, control.LBLeastRequest, control.LBConsistentHash, c.Policy)
	}
	return nil
}
