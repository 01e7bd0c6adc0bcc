package main

import (
	"net"
	"os"
	"time"

	"github.com/meshbridge/meshbridge/adapters/eureka"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/serve"
)

// EurekaConfig configures the Eureka front-end.
type EurekaConfig struct {
	// Listen is the address (default :8761; empty disables Eureka).
	Listen string `yaml:"listen"`
	// Namespace is the registry namespace Eureka shows (default public).
	Namespace string `yaml:"namespace"`
	// Username and Password turn on HTTP basic auth (default off).
	// MESHBRIDGE_EUREKA_PASSWORD also sets the password.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// DeltaRetention is how long a change stays in /apps/delta (default 3m).
	DeltaRetention time.Duration `yaml:"deltaRetention"`
	// DisableDelta answers /apps/delta with 403 (clients fetch in full; default false).
	DisableDelta bool `yaml:"disableDelta"`
	// MaxBodyBytes: larger registrations get 413 (default 1 MiB).
	MaxBodyBytes int64 `yaml:"maxBodyBytes"`
}

func init() {
	adapterFlags = append(adapterFlags, adapterFlag{
		name:  "eureka-listen",
		usage: "Eureka `address` (eureka.listen, default :8761; empty disables)",
		apply: func(cfg *Config, v string) { cfg.Eureka.Listen = v },
	})
	mounters = append(mounters, mountEureka)
}

func (c *EurekaConfig) validate(errs *config.Errors) {
	if c.Listen == "" {
		return
	}
	_, _, err := net.SplitHostPort(c.Listen)
	errs.Add(err != nil, "eureka.listen", "must be host:port, got %q", c.Listen)
	errs.Add(c.DeltaRetention <= 0, "eureka.deltaRetention", "must be positive")
	errs.Add(c.MaxBodyBytes < 1024, "eureka.maxBodyBytes", "must be at least 1024")
	errs.Add(c.Username == "" && c.Password != "", "eureka.username", "required when a password is set")
}

func mountEureka(env *mountEnv) error {
	c := env.cfg.Eureka
	if c.Listen == "" {
		env.log.Info("eureka front-end disabled")
		return nil
	}
	if p := os.Getenv("MESHBRIDGE_EUREKA_PASSWORD"); p != "" && c.Password == "" {
		c.Password = p
	}
	srv, err := eureka.New(env.store, eureka.Options{
		Namespace: c.Namespace, Username: c.Username, Password: c.Password,
		DeltaRetention: c.DeltaRetention, DisableDelta: c.DisableDelta, MaxBodyBytes: c.MaxBodyBytes,
		Logger: env.log,
	})
	if err != nil {
		return err
	}
	env.group.Add(serve.Listener{Name: "eureka", Addr: c.Listen, Handler: srv.Handler()})
	env.run("eureka-view", srv.Run)
	return nil
}
