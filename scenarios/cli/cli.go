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
	"strings"

	"github.com/meshbridge/meshbridge/internal/logging"
	"github.com/meshbridge/meshbridge/scenarios/report"
	"github.com/meshbridge/meshbridge/scenarios/runner"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
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

Flags of run:
`

// Main runs the command and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, version string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "validate":
		return validateCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "scenario", version)
		return ExitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		fs, _ := runFlags(stdout)
		fs.PrintDefaults()
		return ExitOK
	}
	fmt.Fprintf(stderr, "scenario: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

type runOptions struct {
	provider, binDir, workDir, junit, jsonOut, logLevel string
	keep, quiet                                         bool
}

func runFlags(stderr io.Writer) (*flag.FlagSet, *runOptions) {
	o := &runOptions{}
	fs := flag.NewFlagSet("scenario run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.provider, "provider", "", "override the scenarios' provider: "+strings.Join(runner.Providers(), ", "))
	fs.StringVar(&o.binDir, "bin", "", "`dir`ectory with prebuilt binaries (default: go build from the checkout)")
	fs.StringVar(&o.workDir, "work-dir", "", "keep logs and data under this `dir`ectory (default a temp dir, removed after a pass)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory of passing scenarios too")
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to `file`")
	fs.StringVar(&o.jsonOut, "json", "", "write a JSON report to `file`")
	fs.BoolVar(&o.quiet, "quiet", false, "no live progress line")
	fs.StringVar(&o.logLevel, "log-level", "warn", "runner log level (debug, info, warn, error) on stderr")
	return fs, o
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, o := runFlags(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "scenario run: name at least one scenario file")
		return ExitUsage
	}
	log, err := logging.New(logging.Config{Level: o.logLevel}, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "scenario run:", err)
		return ExitUsage
	}
	scenarios, ok := load(fs.Args(), stderr)
	if !ok {
		return ExitUsage
	}
	var progress io.Writer
	if !o.quiet {
		progress = stderr
	}
	var results []*report.Result
	for _, s := range scenarios {
		res := runner.Run(ctx, s, runner.Options{
			Provider: o.provider, BinDir: o.binDir, WorkDir: o.workDir, KeepWork: o.keep,
			Progress: progress, TTY: isTTY(stderr), Announce: stdout, Log: log,
		})
		results = append(results, res)
		report.WriteSummary(stdout, []*report.Result{res})
		if ctx.Err() != nil {
			break
		}
	}
	if len(results) > 1 {
		fmt.Fprintln(stdout, "\n== all scenarios")
		report.WriteSummary(stdout, results)
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
	if err := writeFile(o.junit, results, report.WriteJUnit); err != nil {
		fmt.Fprintln(stderr, "scenario run: junit:", err)
		code = ExitFailed
	}
	if err := writeFile(o.jsonOut, results, report.WriteJSON); err != nil {
		fmt.Fprintln(stderr, "scenario run: json:", err)
		code = ExitFailed
	}
	return code
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

func validateCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "scenario validate: name at least one scenario file")
		return ExitUsage
	}
	scenarios, ok := load(args, stderr)
	for _, s := range scenarios {
		fmt.Fprintf(stdout, "%s: %s ok (%d steps, %d components)\n", s.Path, s.Name, len(s.Steps), len(s.Topology.ComponentNames()))
	}
	if !ok {
		return ExitFailed
	}
	return ExitOK
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

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
