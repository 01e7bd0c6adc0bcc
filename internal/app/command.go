package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/logging"
)

// Exit codes every binary uses.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// Command is one binary (or one subcommand of Commands): what it is
// called, its configuration and flags, and Run, which builds its parts.
// C is its configuration type; *C may have a Validate() error method,
// which runs after the file and the flags are in.
type Command[C any] struct {
	// Name is what the command is called in --help, --version and error
	// messages ("registry-adapter", "scenario run").
	Name string
	// Usage is the text --help prints before the flags.
	Usage string
	// Args, when set, names the positional arguments the command takes
	// ("FILE..."); without it a positional argument is a usage error.
	Args string
	// Version, when set, adds --version, which prints it.
	Version string
	// Defaults returns a new configuration holding every default.
	Defaults func() *C
	// ConfigFile adds --config FILE: the file is decoded strictly onto the
	// defaults by Decode, or by internal/config.Load when Decode is nil.
	ConfigFile bool
	Decode     func(path string, cfg *C) error
	// Flags binds the command's flags to cfg's fields, each with the
	// field's value as its default (fs.StringVar(&cfg.Listen, "listen",
	// cfg.Listen, ...)): --help then prints the real defaults, and a flag
	// given on the command line overrides the file. No flag may carry a
	// secret: --help prints every default.
	Flags func(fs *flag.FlagSet, cfg *C)
	// Log picks the logging settings out of cfg (default: info, text).
	Log func(cfg *C) logging.Config
	// DrainTimeout picks how long the command's drain may take out of cfg
	// (default 30s). The actors bound their own drains with it; the
	// process gives up on a stop that took drainGrace longer.
	DrainTimeout func(cfg *C) time.Duration
	// Run builds the command's parts from cfg and adds them to env's
	// group, which runs once Run returned: until ctx ends, on SIGINT or
	// SIGTERM, or until an actor fails. A command that adds no actor does
	// its work in Run itself (scenario run). An error from Run ends the
	// command before anything is served: an *ExitError with its code, any
	// other with ExitFailed.
	Run func(ctx context.Context, cfg *C, env *Env) error
}

// Env is what a command's Run gets besides its configuration.
type Env struct {
	// Group is the run group the command's parts join.
	*Group
	// Logger is the command's logger, set up from its configuration.
	Logger *slog.Logger
	// Args are the positional arguments.
	Args []string
	// Stdout and Stderr are the process's (a buffer in tests).
	Stdout, Stderr io.Writer
}

// ExitError ends a command with Code; Err, when set, is printed after the
// command's name.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError ends a command with ExitUsage, printing err: a configuration
// the command found wrong only while building its parts (an unreadable
// token file).
func UsageError(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// drainGrace is how much longer than its drain timeout a stop may take
// before the process gives up on it: time for the cleanups after the
// listeners drained (closing the store, stopping plugins). A variable so
// that a test need not wait for it.
var drainGrace = 10 * time.Second

// defaultDrainTimeout is the drain timeout of a command that sets none.
const defaultDrainTimeout = 30 * time.Second

// flagSet builds the command's flags bound to cfg; configPath and
// showVersion receive --config and --version.
func (c Command[C]) flagSet(cfg *C, stderr io.Writer, configPath *string, showVersion *bool) *flag.FlagSet {
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, c.Usage)
		fs.PrintDefaults()
	}
	if c.ConfigFile {
		fs.StringVar(configPath, "config", "", "YAML configuration `file`")
	}
	if c.Version != "" {
		fs.BoolVar(showVersion, "version", false, "print the version and exit")
	}
	if c.Flags != nil {
		c.Flags(fs, cfg)
	}
	return fs
}

// printFlags writes the flags with their defaults (for Commands' help).
func (c Command[C]) printFlags(w io.Writer) bool {
	var path string
	var version bool
	fs := c.flagSet(c.Defaults(), w, &path, &version)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fs.PrintDefaults()
	}
	return n > 0
}

func (c Command[C]) name() string { return c.Name }

// load parses args, reads the configuration file and applies the flags
// over it, then validates: flags are parsed once onto the defaults (so
// --help prints them, and bad flags are reported before the file is
// read), then again onto the file's configuration.
func (c Command[C]) load(args []string, stdout, stderr io.Writer) (cfg *C, positional []string, code int, ok bool) {
	var configPath string
	var showVersion bool
	fs := c.flagSet(c.Defaults(), stderr, &configPath, &showVersion)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, ExitOK, false
		}
		fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
		return nil, nil, ExitUsage, false
	}
	if showVersion {
		fmt.Fprintln(stdout, c.Name, c.Version)
		return nil, nil, ExitOK, false
	}
	if fs.NArg() > 0 && c.Args == "" {
		fmt.Fprintf(stderr, "%s: unexpected arguments: %s\n", c.Name, strings.Join(fs.Args(), " "))
		return nil, nil, ExitUsage, false
	}
	cfg = c.Defaults()
	if configPath != "" {
		var err error
		if c.Decode != nil {
			err = c.Decode(configPath, cfg)
		} else {
			err = config.Load(configPath, cfg)
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
			return nil, nil, ExitUsage, false
		}
	}
	// The same arguments parsed a moment ago: they cannot fail now.
	_ = c.flagSet(cfg, io.Discard, &configPath, &showVersion).Parse(args)
	if v, isValidator := any(cfg).(interface{ Validate() error }); isValidator {
		if err := v.Validate(); err != nil {
			c.printConfigError(stderr, err)
			return nil, nil, ExitUsage, false
		}
	}
	return cfg, fs.Args(), ExitOK, true
}

// printConfigError prints a configuration error on one line; a command
// with a file says "config:", one with flags alone names the flags.
func (c Command[C]) printConfigError(stderr io.Writer, err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	if c.ConfigFile {
		msg = "config: " + msg
	}
	fmt.Fprintf(stderr, "%s: %s\n", c.Name, msg)
}

// run is the whole life of the command: it returns the exit code.
func (c Command[C]) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, positional, code, ok := c.load(args, stdout, stderr)
	if !ok {
		return code
	}
	var logCfg logging.Config
	if c.Log != nil {
		logCfg = c.Log(cfg)
	}
	log, err := logging.New(logCfg, stderr)
	if err != nil {
		c.printConfigError(stderr, err)
		return ExitUsage
	}
	env := &Env{Group: NewGroup(), Logger: log, Args: positional, Stdout: stdout, Stderr: stderr}
	if err := c.Run(ctx, cfg, env); err != nil {
		env.Abort()
		return c.exitCode(log, stderr, err)
	}
	if env.Empty() {
		return ExitOK
	}
	env.Until(ctx)
	drain := defaultDrainTimeout
	if c.DrainTimeout != nil {
		drain = c.DrainTimeout(cfg)
	}
	done := make(chan error, 1)
	go func() { done <- env.Run() }()
	select {
	case err = <-done:
	case <-env.Stopping():
		select {
		case err = <-done:
		case <-time.After(drain + drainGrace):
			log.Error(c.Name+" did not stop in time; exiting", "timeout", drain+drainGrace)
			return ExitFailed
		}
	}
	if err != nil {
		return c.exitCode(log, stderr, err)
	}
	log.Info(c.Name + " stopped")
	return ExitOK
}

// exitCode reports err and returns the code it ends the command with.
func (c Command[C]) exitCode(log *slog.Logger, stderr io.Writer, err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", c.Name, strings.ReplaceAll(ee.Err.Error(), "\n", "; "))
		}
		return ee.Code
	}
	log.Error(c.Name+" failed", "error", err)
	return ExitFailed
}
