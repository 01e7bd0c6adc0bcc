package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Runner is what Main runs: a Command, or Commands.
type Runner interface {
	run(ctx context.Context, args []string, stdout, stderr io.Writer) int
	name() string
	// printFlags writes the flags' defaults and reports whether there are any.
	printFlags(w io.Writer) bool
}

// Main runs r as the process: its context ends on the first SIGINT or
// SIGTERM, which starts the drain; a second one ends the process at once,
// as the signal's default does. It exits with r's exit code.
func Main(r Runner) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // the next signal is no longer caught: it ends the process
	}()
	code := Run(ctx, r, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run is Main without the process: tests call it with their own context
// and buffers. It returns the exit code.
func Run(ctx context.Context, r Runner, args []string, stdout, stderr io.Writer) int {
	return r.run(ctx, args, stdout, stderr)
}

// Commands is a binary made of subcommands (scenario run, scenario
// validate), each a Command named "<binary> <subcommand>".
type Commands struct {
	// Name is the binary's name.
	Name string
	// Usage is the text help prints, before each subcommand's flags.
	Usage string
	// Version is what "version" and --version print.
	Version     string
	Subcommands []Runner
}

func (c Commands) name() string { return c.Name }

// printFlags writes each subcommand's flags under its name.
func (c Commands) printFlags(w io.Writer) bool {
	some := false
	for _, s := range c.Subcommands {
		var flags strings.Builder
		if s.printFlags(&flags) {
			fmt.Fprintf(w, "\nFlags of %s:\n%s", s.name(), flags.String())
			some = true
		}
	}
	return some
}

func (c Commands) run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, c.Usage)
		return ExitUsage
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, c.Name, c.Version)
		return ExitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, c.Usage)
		c.printFlags(stdout)
		return ExitOK
	}
	for _, s := range c.Subcommands {
		if s.name() == c.Name+" "+args[0] {
			return s.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n%s", c.Name, args[0], c.Usage)
	return ExitUsage
}
