package host

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/control"
)

// FailurePolicy says what happens to a call when the plugin cannot answer
// (not running, crashed, timed out, or returned an error).
type FailurePolicy string

// The failure policies.
const (
	// FailClosed refuses: HTTP requests get 503, registrations an error.
	// It is the default, as for Envoy's ext_authz: an auth plugin that is
	// down must not let everything through.
	FailClosed FailurePolicy = "closed"
	// FailOpen goes on as if the plugin were not there.
	FailOpen FailurePolicy = "open"
)

// Defaults for Config fields left zero.
const (
	DefaultTimeout            = 250 * time.Millisecond
	DefaultStartTimeout       = 10 * time.Second
	DefaultHealthInterval     = 5 * time.Second
	DefaultHealthTimeout      = 2 * time.Second
	DefaultRestartBackoff     = 100 * time.Millisecond
	DefaultRestartMaxDelay    = 30 * time.Second
	DefaultMaxConcurrentCalls = 1024
)

// Config describes one plugin, as listed under "plugins:" in a binary's
// configuration:
//
//	plugins:
//	  - name: jwt-auth
//	    path: /usr/local/lib/meshbridge/plugins/jwt-auth
//	    args: ["-alg", "HS256", "-issuer", "https://auth.example.com"]
//	    env: {JWT_HS256_SECRET: "..."}
//	    sha256: 3b0c...e9
//	    timeout: 100ms
//	    failurePolicy: closed
type Config struct {
	// Name identifies the plugin in chains, logs and metrics; required,
	// unique, letters, digits, '-', '_' and '.'.
	Name string `json:"name" yaml:"name"`
	// Path of the plugin binary; required. A relative path is taken from
	// the host's working directory.
	Path string `json:"path" yaml:"path"`
	// Args are the plugin's command-line arguments (after the program name).
	Args []string `json:"args,omitempty" yaml:"args,omitempty"`
	// Env is the plugin's whole environment besides PATH, TMPDIR and HOME,
	// which it inherits: the host's other variables (which may hold
	// secrets) are not passed on.
	Env map[string]string `json:"env,omitempty" yaml:"env,omitempty"`
	// SHA256 is the hex sha256 checksum of the binary (`sha256sum path`);
	// required. The binary is checked before every start and refused when
	// it differs.
	SHA256 string `json:"sha256" yaml:"sha256"`
	// Timeout bounds each call to the plugin (default 250ms).
	Timeout control.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// FailurePolicy is "closed" (default) or "open".
	FailurePolicy FailurePolicy `json:"failurePolicy,omitempty" yaml:"failurePolicy,omitempty"`
	// StartTimeout bounds the start and handshake (default 10s).
	StartTimeout control.Duration `json:"startTimeout,omitempty" yaml:"startTimeout,omitempty"`
	// HealthInterval is the time between health checks (default 5s).
	HealthInterval control.Duration `json:"healthInterval,omitempty" yaml:"healthInterval,omitempty"`
	// HealthTimeout bounds one health check; a plugin that does not answer
	// in time is restarted (default 2s).
	HealthTimeout control.Duration `json:"healthTimeout,omitempty" yaml:"healthTimeout,omitempty"`
	// RestartBackoff is the first delay before restarting a plugin that
	// crashed or would not start (default 100ms); it doubles after each
	// failed attempt up to RestartMaxDelay (default 30s).
	RestartBackoff  control.Duration `json:"restartBackoff,omitempty" yaml:"restartBackoff,omitempty"`
	RestartMaxDelay control.Duration `json:"restartMaxDelay,omitempty" yaml:"restartMaxDelay,omitempty"`
	// MaxConcurrentCalls bounds the calls in flight to the plugin (default
	// 1024); beyond it calls fail at once as unavailable, so a plugin that
	// stalls cannot pile up work on either side.
	MaxConcurrentCalls int `json:"maxConcurrentCalls,omitempty" yaml:"maxConcurrentCalls,omitempty"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	setDefault := func(d *control.Duration, def time.Duration) {
		if *d == 0 {
			*d = control.Duration(def)
		}
	}
	setDefault(&c.Timeout, DefaultTimeout)
	setDefault(&c.StartTimeout, DefaultStartTimeout)
	setDefault(&c.HealthInterval, DefaultHealthInterval)
	setDefault(&c.HealthTimeout, DefaultHealthTimeout)
	setDefault(&c.RestartBackoff, DefaultRestartBackoff)
	setDefault(&c.RestartMaxDelay, DefaultRestartMaxDelay)
	if c.FailurePolicy == "" {
		c.FailurePolicy = FailClosed
	}
	if c.MaxConcurrentCalls == 0 {
		c.MaxConcurrentCalls = DefaultMaxConcurrentCalls
	}
	return c
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Validate checks one plugin's configuration (defaults applied or not);
// field names in errors are prefixed with field, e.g. "plugins[0]".
func (c Config) Validate(field string) error {
	c = c.WithDefaults()
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", field, name, fmt.Sprintf(format, args...)))
	}
	if !validName.MatchString(c.Name) {
		bad("name", "must be 1-63 letters, digits, '.', '-' or '_', starting with a letter or digit; got %q", c.Name)
	}
	if c.Path == "" {
		bad("path", "required")
	} else if st, err := os.Stat(c.Path); err != nil {
		bad("path", "%v", err)
	} else if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		bad("path", "%s is not an executable file", c.Path)
	}
	if sum, err := hex.DecodeString(c.SHA256); err != nil || len(sum) != 32 {
		bad("sha256", "required: the 64 hex digits of `sha256sum %s`", c.Path)
	}
	for k := range c.Env {
		switch {
		case k == "" || strings.ContainsAny(k, "=\x00"):
			bad("env", "invalid variable name %q", k)
		case strings.HasPrefix(k, "PLUGIN_") || strings.HasPrefix(k, "MESHBRIDGE_PLUGIN"):
			bad("env."+k, "reserved for the plugin handshake")
		}
	}
	if c.FailurePolicy != FailOpen && c.FailurePolicy != FailClosed {
		bad("failurePolicy", "must be %q or %q, got %q", FailClosed, FailOpen, c.FailurePolicy)
	}
	for name, d := range map[string]control.Duration{
		"timeout": c.Timeout, "startTimeout": c.StartTimeout, "healthInterval": c.HealthInterval,
		"healthTimeout": c.HealthTimeout, "restartBackoff": c.RestartBackoff, "restartMaxDelay": c.RestartMaxDelay,
	} {
		if d < 0 {
			bad(name, "must not be negative")
		}
	}
	if c.MaxConcurrentCalls < 0 {
		bad("maxConcurrentCalls", "must not be negative")
	}
	if c.RestartMaxDelay < c.RestartBackoff {
		bad("restartMaxDelay", "must be at least restartBackoff (%s)", c.RestartBackoff.D())
	}
	return errors.Join(errs...)
}

// ValidateAll checks a list of plugins as found under "plugins:" and that
// their names are unique.
func ValidateAll(cfgs []Config) error {
	var errs []error
	seen := map[string]int{}
	for i, c := range cfgs {
		field := fmt.Sprintf("plugins[%d]", i)
		if err := c.Validate(field); err != nil {
			errs = append(errs, err)
		}
		if j, dup := seen[c.Name]; dup && c.Name != "" {
			errs = append(errs, fmt.Errorf("%s.name: %q is already used by plugins[%d]", field, c.Name, j))
		}
		seen[c.Name] = i
	}
	return errors.Join(errs...)
}

// absPath resolves the binary's path once, so a later change of the host's
// working directory cannot make it point elsewhere.
func (c Config) absPath() (string, error) {
	return filepath.Abs(c.Path)
}
