package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/report"
	"github.com/meshbridge/meshbridge/scenarios/spec"
)

// Options tune a run.
type Options struct {
	// Provider overrides the scenario's provider when set.
	Provider string
	// BinDir holds prebuilt binaries; when empty they are built from
	// ModuleRoot into the work directory.
	BinDir     string
	ModuleRoot string
	// WorkDir is where logs and data go (default a fresh temp directory,
	// removed after a passing run unless KeepWork).
	WorkDir  string
	KeepWork bool
	// Progress receives the live progress line (nil for none); TTY
	// redraws one line, anything else gets a line every few seconds.
	Progress io.Writer
	TTY      bool
	// Announce receives the URLs to look at once the topology is up.
	Announce io.Writer
	Log      *slog.Logger
	// ControlToken is sent to the registry's control API (the binary reads
	// it with control.TokenFrom); the components inherit the environment
	// that set it.
	ControlToken string
}

// meshReadyTimeout bounds the wait for every sidecar to see every instance.
const meshReadyTimeout = 60 * time.Second

// run is the state of one scenario run.
type run struct {
	s        *spec.Scenario
	opts     Options
	log      *slog.Logger
	prov     Provider
	comps    []*Component
	byName   map[string]*Component
	names    []string
	hc       *http.Client // plain client for admin, stats and registry views
	res      *report.Result
	traffic  map[string]*trafficRun
	mu       sync.Mutex
	progress *progressLine
	net      Net
	down     map[string]bool // components stopped or killed by a step
	retries  retryCount
}

// Run runs one scenario and reports; it never panics on a failed step and
// always stops what it started, even when ctx is cancelled (Ctrl-C).
func Run(ctx context.Context, s *spec.Scenario, opts Options) *report.Result {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	provName := s.Provider
	if opts.Provider != "" {
		provName = opts.Provider
	}
	r := &run{s: s, opts: opts, log: opts.Log.With("scenario", s.Name), byName: map[string]*Component{},
		traffic: map[string]*trafficRun{}, down: map[string]bool{},
		hc:  &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}},
		res: &report.Result{Name: s.Name, File: s.Path, Provider: provName, Started: time.Now(), Steps: []report.Step{}}}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	defer func() { // before cancel, which would end ctx for no reason of its own
		r.res.Duration = time.Since(r.res.Started)
		// Whatever failed once the run was stopped from outside failed
		// because of it.
		if interrupted(ctx) && r.res.Failed() {
			r.res.Status = report.Interrupted
			if why := stopReason(ctx, s.Timeout); !strings.HasPrefix(r.res.Reason, why) {
				r.res.Reason = strings.TrimSpace(why + "\n" + r.res.Reason)
			}
		}
	}()
	factory, ok := LookupProvider(provName)
	if !ok {
		return r.fail(report.Error, fmt.Sprintf("provider %q is not built into this runner (have: %s); the container provider is in the e2e module: go run ./e2e/cmd/scenario run --provider container FILE", provName, strings.Join(Providers(), ", ")))
	}
	for _, c := range s.Topology.Containers {
		r.res.Containers = append(r.res.Containers, containerReport(&c))
	}
	if len(s.Topology.Containers) > 0 && !factory.RunsImages {
		c := s.Topology.Containers[0]
		return r.fail(report.Error, fmt.Sprintf("topology.containers (%s: %s): the %s provider cannot run images; run the scenario with the container provider (go run ./e2e/cmd/scenario run --provider container FILE)", c.Name, c.Image, provName))
	}
	if factory.Available != nil {
		if why := factory.Available(ctx); why != "" {
			return r.fail(report.Skipped, why)
		}
	}
	work, err := r.workDir()
	if err != nil {
		return r.fail(report.Error, err.Error())
	}
	root := r.opts.ModuleRoot
	if root == "" {
		wd, _ := os.Getwd()
		root, _ = ModuleRoot(wd) // only needed to build, or for Dockerfiles
	}
	binDir, err := r.binaries(ctx, root, work)
	if err != nil {
		var me *MissingError
		if errors.As(err, &me) {
			return r.fail(report.Skipped, err.Error())
		}
		return r.fail(report.Error, err.Error())
	}
	flags, err := binaryFlags(ctx, filepath.Join(binDir, BinRegistry))
	if err != nil {
		return r.fail(report.Error, err.Error())
	}
	if r.comps, err = plan(s, flags, factory.RunsImages); err != nil {
		return r.fail(report.Skipped, err.Error())
	}
	for _, c := range r.comps {
		r.byName[c.Name] = c
		r.names = append(r.names, c.Name)
	}

	r.prov = factory.New()
	defer r.cleanup(work)
	proxied := func(name string) bool {
		for _, p := range s.Topology.Proxied {
			if len(spec.Match([]string{name}, p)) > 0 {
				return true
			}
		}
		return false
	}
	if r.net, err = r.prov.Prepare(ctx, r.comps, Env{BinDir: binDir, Root: root, WorkDir: work, Scenario: s.Name, Proxied: proxied, Log: r.log}); err != nil {
		var me *MissingError
		if errors.As(err, &me) {
			return r.fail(report.Skipped, err.Error()) // an image built here, not yet (Component.BuiltBy)
		}
		return r.fail(report.Error, err.Error())
	}
	r.progress = newProgressLine(opts.Progress, opts.TTY, s.Name)
	defer r.progress.stop()
	r.progress.set("starting the topology")
	if err := r.startAll(ctx); err != nil {
		return r.fail(report.Error, err.Error())
	}
	if err := r.waitMesh(ctx); err != nil {
		return r.fail(report.Error, err.Error())
	}
	r.res.Setup = time.Since(r.res.Started)
	r.announce(ctx)
	r.beginRetries(ctx)
	r.runSteps(ctx)
	return r.res
}

func (r *run) fail(status, reason string) *report.Result {
	r.res.Status, r.res.Reason = status, reason
	return r.res
}

func (r *run) workDir() (string, error) {
	if r.opts.WorkDir != "" {
		dir := filepath.Join(r.opts.WorkDir, r.s.Name)
		return dir, os.MkdirAll(dir, 0o755)
	}
	return os.MkdirTemp("", "scenario-"+r.s.Name+"-")
}

func (r *run) binaries(ctx context.Context, root, work string) (string, error) {
	names := []string{BinRegistry, BinSidecar, BinDemoApp}
	if len(r.s.Topology.Mocks) > 0 {
		names = append(names, BinMockserver)
	}
	if len(r.s.Topology.Syncers) > 0 {
		names = append(names, BinSyncer)
	}
	if r.opts.BinDir != "" {
		return r.opts.BinDir, HaveBinaries(r.opts.BinDir, names...)
	}
	if root == "" {
		return "", fmt.Errorf("runner: no meshbridge checkout to build from (run inside it, or give prebuilt binaries)")
	}
	dir := filepath.Join(work, "bin")
	return dir, Build(ctx, root, dir, names...)
}

// cleanup stops every component with a fresh deadline (the run's context
// may be cancelled already) and removes the work directory of a passing run.
func (r *run) cleanup(work string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, t := range r.traffic {
		t.cancel()
		_ = t.run.Wait(ctx) // cancelled: ends promptly
	}
	if err := r.prov.Close(ctx); err != nil {
		r.log.Warn("cleanup failed", "error", err)
		r.res.Reason = strings.TrimSpace(r.res.Reason + "\ncleanup: " + err.Error())
	}
	r.res.Logs = map[string]string{}
	for _, n := range r.names {
		r.res.Logs[n] = r.prov.Logs(n)
	}
	if r.res.Failed() || r.opts.KeepWork || r.opts.WorkDir != "" {
		r.res.WorkDir = work
		return
	}
	r.res.Logs = nil
	os.RemoveAll(work)
}

// startAll starts the extra containers (the registry may keep its store
// in one), then the registry and the legacy registries, then every
// sidecar and syncer, then every app; each phase in parallel.
func (r *run) startAll(ctx context.Context) error {
	phases := [][]*Component{nil, nil, nil, nil}
	for _, c := range r.comps {
		switch c.Role {
		case RoleContainer:
			phases[0] = append(phases[0], c)
		case RoleRegistry, RoleLegacy:
			phases[1] = append(phases[1], c)
		case RoleSidecar, RoleSyncer:
			phases[2] = append(phases[2], c)
		default:
			phases[3] = append(phases[3], c)
		}
	}
	for _, phase := range phases {
		errs := make([]error, len(phase))
		var wg sync.WaitGroup
		for i, c := range phase {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = r.prov.Start(ctx, c)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// announce prints where to look while the scenario runs.
func (r *run) announce(ctx context.Context) {
	w := r.opts.Announce
	if w == nil {
		return
	}
	r.progress.clear()
	line := func(what, comp, port, path string) {
		if addr, err := r.prov.HostAddr(ctx, comp, port); err == nil {
			fmt.Fprintf(w, "  %-28s http://%s%s\n", what, addr, path)
		}
	}
	fmt.Fprintf(w, "%s is up (%s provider, work dir and logs under %s):\n", r.s.Name, r.res.Provider, filepath.Dir(filepath.Dir(r.prov.Logs(spec.ComponentRegistry))))
	line("control API (instances)", spec.ComponentRegistry, "control", "/api/v1/instances")
	line("control API (resources)", spec.ComponentRegistry, "control", "/api/v1/resources")
	line("Eureka status page", spec.ComponentRegistry, "eureka", "/")
	line("Eureka apps", spec.ComponentRegistry, "eureka", "/eureka/apps")
	line("Consul catalog", spec.ComponentRegistry, "consul", "/v1/catalog/services")
	line("Nacos instances", spec.ComponentRegistry, "nacos", "/nacos/v1/ns/service/list?pageNo=1&pageSize=100")
	line("edge sidecar metrics", spec.ComponentEdge, "admin", "/metrics")
	line("edge sidecar routing table", spec.ComponentEdge, "admin", "/config")
	line("edge sidecar egress (proxy)", spec.ComponentEdge, "egress", "")
	for _, c := range r.comps {
		if c.Role == RoleSidecar && c.Name != spec.ComponentEdge {
			line(c.Name+" metrics", c.Name, "admin", "/metrics")
		}
	}
	for _, c := range r.comps {
		if c.Role == RoleMock {
			line(c.Name+" journal", c.Name, "http", "/__admin/requests")
		}
	}
	for _, c := range r.comps {
		if c.Role == RoleContainer {
			for _, p := range c.Ports {
				line(c.Name+" "+p.Name+" ("+c.Image+")", c.Name, p.Name, "")
			}
		}
	}
}

// containerReport describes an extra container for the report.
func containerReport(c *spec.Container) report.Container {
	out := report.Container{Name: c.Name, Image: c.Image, Ports: map[string]int{}}
	for _, p := range c.Ports {
		out.Ports[p.Name] = p.Port
	}
	return out
}
