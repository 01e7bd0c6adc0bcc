// Package apptest runs meshbridge binaries in tests: Serve runs a
// command in the test's process until the test ends and checks that it
// stops cleanly; Build compiles main packages once per test run, Start
// runs one as a process with its output collected (and shown if the test
// fails) and kills it when the test ends, Wait returns its exit code.
package apptest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	mu    sync.Mutex
	built = map[string]string{} // package path as given -> binary
)

// Build compiles the main packages (paths as `go build` takes them,
// relative to the test's directory) once per test run, in one go build,
// and returns each binary's path by the last element of its package path.
func Build(tb testing.TB, pkgs ...string) map[string]string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	var missing []string
	for _, p := range pkgs {
		if _, ok := built[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		dir, err := os.MkdirTemp("", "apptest-")
		if err != nil {
			tb.Fatal(err)
		}
		args := append([]string{"build", "-o", dir + string(filepath.Separator)}, missing...)
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			tb.Fatalf("go build %s: %v\n%s", strings.Join(missing, " "), err, out)
		}
		for _, p := range missing {
			built[p] = filepath.Join(dir, name(p))
		}
	}
	out := map[string]string{}
	for _, p := range pkgs {
		out[name(p)] = built[p]
	}
	return out
}

// name is the binary go build makes of pkg: the last element of its
// path ("." is the current directory), which in this repository is the
// last element of its import path too.
func name(pkg string) string {
	if abs, err := filepath.Abs(pkg); err == nil {
		return filepath.Base(abs)
	}
	return filepath.Base(pkg)
}

// Process is a binary running for one test.
type Process struct {
	Cmd    *exec.Cmd
	out    lockedBuffer
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

// Start runs the binary at path with args until the test ends, when it
// is killed (if it still runs) and, if the test failed, its output logged.
func Start(tb testing.TB, path string, args ...string) *Process {
	tb.Helper()
	p := &Process{Cmd: exec.Command(path, args...), exited: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = &p.out, &p.out
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.exited) }()
	tb.Cleanup(func() {
		_ = p.Cmd.Process.Kill() // an error means it is gone already
		<-p.exited
		if tb.Failed() {
			tb.Logf("%s output:\n%s", filepath.Base(path), p.Output())
		}
	})
	return p
}

// Output is what the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Wait waits up to within for the process to end and returns its exit
// code (-1 when a signal ended it).
func (p *Process) Wait(tb testing.TB, within time.Duration) int {
	tb.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		tb.Fatalf("%s did not exit within %v", p.Cmd.Path, within)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		tb.Fatal(fmt.Errorf("%s: %w", p.Cmd.Path, p.err))
	}
	return 0
}

// lockedBuffer collects a process's output from its two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
