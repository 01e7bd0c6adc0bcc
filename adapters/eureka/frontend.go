package eureka

import (
	"flag"
	"net"
	"os"
	"time"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/serve"
)

func init() {
	frontend.Register(frontend.Kind{
		Name: "eureka", NewConfig: func() frontend.Config { return DefaultConfig() }, Mount: mount,
		DiscoveryListen: "127.0.0.1:8761",
	})
}

// Config is the eureka: section of registry-adapter's configuration.
type Config struct {
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

// DefaultConfig is the configuration with every default applied.
func DefaultConfig() *Config {
	return &Config{Listen: ":8761", Namespace: "public", DeltaRetention: 3 * time.Minute, MaxBodyBytes: 1 << 20}
}

// Validate names every wrong field.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	var errs config.Errors
	_, _, err := net.SplitHostPort(c.Listen)
	errs.Add(err != nil, "eureka.listen", "must be host:port, got %q", c.Listen)
	errs.Add(c.DeltaRetention <= 0, "eureka.deltaRetention", "must be positive")
	errs.Add(c.MaxBodyBytes < 1024, "eureka.maxBodyBytes", "must be at least 1024")
	errs.Add(c.Username == "" && c.Password != "", "eureka.username", "required when a password is set")
	return errs.Err()
}

// Flags binds --eureka-listen.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "eureka-listen", c.Listen, "Eureka `address` (eureka.listen; empty disables)")
}

// mount serves the Eureka API on its listener and follows the registry
// for the bulk views.
func mount(fc frontend.Config, env frontend.Env) error {
	c := *fc.(*Config)
	if env.Sidecar != nil {
		c.Listen, c.Namespace = env.Sidecar.Listen, env.Sidecar.Namespace
	} else if p := os.Getenv("MESHBRIDGE_EUREKA_PASSWORD"); p != "" && c.Password == "" {
		c.Password = p
	}
	if c.Listen == "" {
		env.Logger.Info("eureka front-end disabled")
		return nil
	}
	srv, err := New(env.Registry, Options{
		Namespace: c.Namespace, Username: c.Username, Password: c.Password,
		DeltaRetention: c.DeltaRetention, DisableDelta: c.DisableDelta, MaxBodyBytes: c.MaxBodyBytes,
		Logger: env.Logger,
	})
	if err != nil {
		return err
	}
	if err := serve.Join(env.Group, serve.Listener{Name: "eureka", Addr: c.Listen, Handler: srv.Handler()}, env.Logger, env.Timeouts, env.Limits); err != nil {
		return err
	}
	env.Group.Go(srv.Run)
	return nil
}
