// Package cli is the scenario command line, shared by cmd/scenario (process
// provider) and the e2e module's command (which adds the container provider).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/scenarios/report"
	"github.com/meshbridge/meshbridge/scenarios/runner"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// Exit codes.
const (
	ExitOK     = app.ExitOK
	ExitFailed = app.ExitFailed
	ExitUsage  = app.ExitUsage
	// ExitInterrupted is the shell's code for a run ended by Ctrl-C.
	ExitInterrupted = 130
)

const usage = `scenario: run meshbridge scenario files.

Usage:
  scenario run [flags] FILE...      start each topology, run its steps, report
  scenario validate FILE...         check files without running them

A scenario that fails (or cannot start) makes the exit status 1; skipped
scenarios (a missing binary, no Docker for the container provider) do not.
A run stopped by Ctrl-C or SIGTERM exits 130 after stopping everything.
The format is described in docs/scenarios.md.
`

// Command is the scenario command with its run and validate subcommands;
// the mains run it with app.Main.
func Command(version string) app.Commands {
	return app.Commands{Name: "scenario", Usage: usage, Version: version, Subcommands: []app.Runner{
		app.Command[runOptions]{
			Name: "scenario run", Usage: usage, Args: "FILE...",
			Defaults: func() *runOptions { return &runOptions{logLevel: "warn"} },
			Flags:    func(fs *flag.FlagSet, o *runOptions) { o.flags(fs) },
			Log:      func(o *runOptions) logging.Config { return logging.Config{Level: o.logLevel} },
			Run:      runCmd,
		},
		app.Command[struct{}]{
			Name: "scenario validate", Usage: usage, Args: "FILE...",
			Defaults: func() *struct{} { return &struct{}{} },
			Run:      func(_ context.Context, _ *struct{}, env *app.Env) error { return validateCmd(env) },
		},
	}}
}

// Main runs the command and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, version string) int {
	return app.Run(ctx, Command(version), args, stdout, stderr)
}

type runOptions struct {
	provider, binDir, workDir, junit, jsonOut, htmlDir, logLevel string
	keep, quiet                                                  bool
}

func (o *runOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.provider, "provider", o.provider, "override the scenarios' provider: "+strings.Join(runner.Providers(), ", "))
	fs.StringVar(&o.binDir, "bin", o.binDir, "`dir`ectory with prebuilt binaries (default: go build from the checkout)")
	fs.StringVar(&o.workDir, "work-dir", o.workDir, "keep logs and data under this `dir`ectory (default a temp dir, removed after a pass)")
	fs.BoolVar(&o.keep, "keep", o.keep, "keep the work directory of passing scenarios too")
	fs.StringVar(&o.junit, "junit", o.junit, "write a JUnit XML report to `file`")
	fs.StringVar(&o.jsonOut, "json", o.jsonOut, "write a JSON report to `file`")
	fs.StringVar(&o.htmlDir, "html", o.htmlDir, "write each scenario's HTML report to `dir`/<scenario>.html (default: report.html in a kept work directory)")
	fs.BoolVar(&o.quiet, "quiet", o.quiet, "no live progress line")
	fs.StringVar(&o.logLevel, "log-level", o.logLevel, "runner log level (debug, info, warn, error) on stderr")
}

// errNoFiles is the usage error of a subcommand given no file.
var errNoFiles = errors.New("name at least one scenario file")

// runCmd runs the scenarios one after the other until ctx ends (Ctrl-C),
// which stops the running one.
func runCmd(ctx context.Context, o *runOptions, env *app.Env) error {
	if len(env.Args) == 0 {
		return app.UsageError(errNoFiles)
	}
	token, err := control.TokenFrom("", "")
	if err != nil {
		return app.UsageError(err)
	}
	scenarios, ok := load(env.Args, env.Stderr)
	if !ok {
		return &app.ExitError{Code: ExitUsage}
	}
	var progress io.Writer
	if !o.quiet {
		progress = env.Stderr
	}
	var results []*report.Result
	htmlFailed := false
	for _, s := range scenarios {
		res := runner.Run(ctx, s, runner.Options{
			Provider: o.provider, BinDir: o.binDir, WorkDir: o.workDir, KeepWork: o.keep,
			Progress: progress, TTY: isTTY(env.Stderr), Announce: env.Stdout, Log: env.Logger, ControlToken: token,
		})
		results = append(results, res)
		report.WriteSummary(env.Stdout, []*report.Result{res})
		if path, err := writeHTML(o.htmlDir, res); err != nil {
			fmt.Fprintln(env.Stderr, "scenario run: html:", err)
			htmlFailed = true
		} else if path != "" {
			fmt.Fprintf(env.Stdout, "HTML report: %s\n", path)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(results) > 1 {
		fmt.Fprintln(env.Stdout, "\n== all scenarios")
		report.WriteSummary(env.Stdout, results)
	}
	code := ExitOK
	for _, r := range results {
		if r.Failed() {
			code = ExitFailed
		}
	}
	if ctx.Err() != nil {
		code = ExitInterrupted
	}
	if htmlFailed {
		code = ExitFailed
	}
	if err := writeFile(o.junit, results, report.WriteJUnit); err != nil {
		fmt.Fprintln(env.Stderr, "scenario run: junit:", err)
		code = ExitFailed
	}
	if err := writeFile(o.jsonOut, results, report.WriteJSON); err != nil {
		fmt.Fprintln(env.Stderr, "scenario run: json:", err)
		code = ExitFailed
	}
	if code != ExitOK {
		return &app.ExitError{Code: code}
	}
	return nil
}

func load(paths []string, stderr io.Writer) ([]*spec.Scenario, bool) {
	var out []*spec.Scenario
	ok := true
	for _, p := range paths {
		s, err := spec.Load(p)
		if err != nil {
			fmt.Fprintln(stderr, err)
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

func validateCmd(env *app.Env) error {
	if len(env.Args) == 0 {
		return app.UsageError(errNoFiles)
	}
	scenarios, ok := load(env.Args, env.Stderr)
	for _, s := range scenarios {
		fmt.Fprintf(env.Stdout, "%s: %s ok (%d steps, %d components)\n", s.Path, s.Name, len(s.Steps), len(s.Topology.ComponentNames()))
	}
	if !ok {
		return &app.ExitError{Code: ExitFailed}
	}
	return nil
}

func writeFile(path string, results []*report.Result, write func(io.Writer, []*report.Result) error) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f, results); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeHTML writes a scenario's HTML report into dir, or into its kept
// work directory when dir is empty; it returns the file's path ("" when
// there is nowhere to write it).
func writeHTML(dir string, res *report.Result) (string, error) {
	path := ""
	switch {
	case dir != "":
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		path = filepath.Join(dir, res.Name+".html")
	case res.WorkDir != "":
		path = filepath.Join(res.WorkDir, "report.html")
	default:
		return "", nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := report.WriteHTML(f, res); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
