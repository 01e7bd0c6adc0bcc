// Package framework is what the e2e suites share: binaries built once per
// suite, scenario runs with their report dumped on failure, and checks that
// nothing a run started is left behind.
package framework

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/report"
	"github.com/meshbridge/meshbridge/scenarios/runner"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// ScenarioTimeout bounds one scenario run in a suite.
const ScenarioTimeout = 4 * time.Minute

// Binaries the suites need: the runner's three, mockserver (for
// topology.mocks), registrysync (for topology.syncers) and the scenario
// command.
var Binaries = []string{runner.BinRegistry, runner.BinSidecar, runner.BinDemoApp, runner.BinMockserver, runner.BinSyncer, "scenario"}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// Root is the meshbridge checkout the e2e module sits in.
func Root() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return runner.ModuleRoot(wd)
}

// BinEnv names a directory of prebuilt binaries to test instead of
// building them (for instance bin/ after make build).
const BinEnv = "MESHBRIDGE_E2E_BIN"

// Build compiles the binaries once per test process into a temp directory
// (or takes them from $MESHBRIDGE_E2E_BIN). A *runner.MissingError means the
// suite should skip, saying why.
func Build(ctx context.Context) (string, error) {
	buildOnce.Do(func() {
		if dir := os.Getenv(BinEnv); dir != "" {
			binDir, buildErr = filepath.Abs(dir)
			if buildErr == nil {
				buildErr = runner.HaveBinaries(binDir, Binaries...)
			}
			return
		}
		root, err := Root()
		if err != nil {
			buildErr = err
			return
		}
		if binDir, err = os.MkdirTemp("", "meshbridge-e2e-bin-"); err != nil {
			buildErr = err
			return
		}
		buildErr = runner.Build(ctx, root, binDir, Binaries...)
	})
	return binDir, buildErr
}

// Cleanup removes the binaries Build compiled (not a $MESHBRIDGE_E2E_BIN
// directory); suites call it when their specs are done.
func Cleanup() {
	if binDir != "" && os.Getenv(BinEnv) == "" {
		os.RemoveAll(binDir)
	}
}

// SkipReason returns why a suite cannot run, or "" (build errors that are
// not a missing binary are real failures, returned as err).
func SkipReason(err error) (string, error) {
	var me *runner.MissingError
	if errors.As(err, &me) {
		return me.Error(), nil
	}
	return "", err
}

// Scenario loads a shipped scenario by file name (scenarios/<name>.yaml)
// or a path relative to the e2e module.
func Scenario(name string) (*spec.Scenario, error) {
	path := name
	if !strings.Contains(name, "/") {
		root, err := Root()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(root, "scenarios", name+".yaml")
	}
	return spec.Load(path)
}

// Run runs a scenario with the suite's binaries.
func Run(ctx context.Context, s *spec.Scenario, provider, bin string) *report.Result {
	ctx, cancel := context.WithTimeout(ctx, ScenarioTimeout)
	defer cancel()
	root, _ := Root()
	return runner.Run(ctx, s, runner.Options{Provider: provider, BinDir: bin, ModuleRoot: root})
}

// Summary renders a result for a failure message.
func Summary(r *report.Result) string {
	var b bytes.Buffer
	report.WriteSummary(&b, []*report.Result{r})
	return b.String()
}

// Stray lists running processes whose executable lives in dir (Linux
// /proc); after a run there must be none.
func Stray(dir string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+string(filepath.Separator)) {
			out = append(out, e.Name()+" "+filepath.Base(exe))
		}
	}
	return out
}

// Step returns the report of the first step with this action and detail prefix.
func Step(r *report.Result, action, detail string) *report.Step {
	for i := range r.Steps {
		if r.Steps[i].Action == action && strings.HasPrefix(r.Steps[i].Detail, detail) {
			return &r.Steps[i]
		}
	}
	return nil
}

// Traffic returns the report of a traffic run.
func Traffic(r *report.Result, name string) *report.TrafficReport {
	for i := range r.Traffic {
		if r.Traffic[i].Name == name {
			return &r.Traffic[i]
		}
	}
	return nil
}
