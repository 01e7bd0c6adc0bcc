package runner

import (
	"context"
	"errors"
	"fmt"
	"github.com/meshbridge/meshbridge/internal/kinds"
	"github.com/meshbridge/meshbridge/internal/zkserver"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Binaries the scenarios run.
const (
	BinRegistry = "registry-adapter"
	BinSidecar  = "sidecar"
	BinDemoApp  = "demoapp"
	BinSyncer   = "registrysync"
)

// Component roles.
const (
	RoleRegistry = "registry"
	RoleSidecar  = "sidecar"
	RoleApp      = "app"
	// RoleContainer is an extra container from topology.containers: an
	// image, not one of meshbridge's binaries.
	RoleContainer = "container"
	// RoleLegacy is a legacy registry (topology.legacy): the
	// registry-adapter serving one protocol, apart from the mesh.
	RoleLegacy = "legacy"
	// RoleSyncer is a registrysync process (topology.syncers).
	RoleSyncer = "syncer"
)

// Port is one named listener of a component.
type Port struct {
	Name string
	// Container is the port inside a container (the binary's default).
	Container int
	// Follows makes a process provider allocate this port at the port of
	// Follows plus Offset (Nacos gRPC sits at the HTTP port + 1000).
	Follows string
	Offset  int
}

// Probe is an HTTP GET that answers Status (default 200), with Body in
// its answer when set, once the component is ready.
type Probe struct {
	Port   string
	Path   string
	Status int
	Body   string
	// Timeout bounds the wait (0: the provider's default).
	Timeout time.Duration
	// Protocol is how readiness is asked: "" by the HTTP GET above,
	// ProbeZooKeeper by a ZooKeeper session on Port (a server that speaks
	// no HTTP).
	Protocol string
}

// ProbeZooKeeper is a readiness probe that asks for a ZooKeeper session.
const ProbeZooKeeper = "zookeeper"

// Component is one process or container of a topology.
type Component struct {
	Name   string
	Role   string
	Binary string
	// Program, for a process, is an installed program run instead of
	// Binary from the built binaries (a legacy ZooKeeper's java).
	Program string
	// Image, for RoleContainer (and a legacy ZooKeeper under a provider
	// that runs images), is the image reference to run instead of a
	// binary; Env is set in it. Args then replace the image's CMD (nil
	// keeps it).
	Image string
	// BuiltBy, for an Image made on this machine rather than pulled, is
	// the command that makes it: a provider missing the image says so
	// (a *MissingError) instead of pulling.
	BuiltBy string
	Env     map[string]string
	Ports   []Port
	// Args builds the command line once every address is known.
	Args func(n Net) []string
	// Files, when set, are files the component reads at start (a
	// configuration), by their path as it sees them, under
	// n.DataDir(name): the provider puts them there before each start.
	Files func(n Net) map[string]string
	Ready Probe
	// Pod names the component whose network namespace this one shares in
	// containers (an app joins its sidecar); processes ignore it.
	Pod string
	// App details, for assertions.
	Service, Version string
	Labels           map[string]string
	// Moved marks a migrating service's mesh instances (spec: mesh: true).
	Moved bool
}

// Net answers addresses once a provider has placed every component.
type Net interface {
	// Listen is the address comp listens on for port.
	Listen(comp, port string) string
	// Dial is the address other components use to reach comp's port (a
	// fault proxy in front of it when the component is proxied).
	Dial(comp, port string) string
	// Local is the address of comp's port from inside its own pod.
	Local(comp, port string) string
	// DataDir is a directory the component may keep state in across restarts.
	DataDir(comp string) string
}

// Env is what a provider gets to work with.
type Env struct {
	// BinDir holds the built binaries (static, CGO_ENABLED=0).
	BinDir string
	// Root is the module root (Dockerfiles live under build/docker), if known.
	Root string
	// WorkDir holds logs and data of this run.
	WorkDir string
	// Scenario names the run (container networks and labels use it).
	Scenario string
	// Proxied reports whether a component's inbound links pass through a fault proxy.
	Proxied func(comp string) bool
	Log     *slog.Logger
}

// ErrUnsupported is returned by a provider for a fault it cannot inject.
var ErrUnsupported = errors.New("not supported by this provider")

// Provider starts and breaks components.
type Provider interface {
	// Prepare places every component (ports, networks) before any starts.
	Prepare(ctx context.Context, comps []*Component, env Env) (Net, error)
	// Start starts a component (again, after Stop) and returns once its
	// readiness probe passes.
	Start(ctx context.Context, c *Component) error
	// Stop stops a component: SIGTERM and a drain, or SIGKILL when kill.
	Stop(ctx context.Context, name string, kill bool) error
	Pause(ctx context.Context, name string) error
	Resume(ctx context.Context, name string) error
	// Latency, Cut and Heal break a component's inbound links.
	Latency(ctx context.Context, name string, delay, jitter time.Duration) error
	Cut(ctx context.Context, name string) error
	Heal(ctx context.Context, name string) error
	// HostAddr is where the runner reaches comp's port (asked each time:
	// a restarted container has new host ports).
	HostAddr(ctx context.Context, comp, port string) (string, error)
	// Logs says where a component's output is kept.
	Logs(comp string) string
	// Close stops everything the provider started, whatever state it is in.
	Close(ctx context.Context) error
}

// Execer is a provider that runs a command inside a component, for what
// a component answers only from its own host (a syncer's breaker release
// over loopback) when the runner is not on that host (containers). The
// command's first word is the binary's path in the component.
type Execer interface {
	Exec(ctx context.Context, comp string, cmd []string) (stdout string, err error)
}

// Factory creates a provider; Available says why it cannot run here ("" if it can).
type Factory struct {
	New       func() Provider
	Available func(ctx context.Context) string
	// RunsImages says the provider can run components from images
	// (topology.containers).
	RunsImages bool
}

var providers = kinds.New[Factory]("runner: provider")

// RegisterProvider makes a provider available by name; an empty or
// duplicate name panics (registration happens in init).
func RegisterProvider(name string, f Factory) {
	if f.New == nil {
		panic(fmt.Sprintf("runner: provider %q registered without a constructor", name))
	}
	providers.Register(name, f)
}

// LookupProvider returns a registered provider factory.
func LookupProvider(name string) (Factory, bool) { return providers.Lookup(name) }

// Providers lists the registered provider names.
func Providers() []string { return providers.Names() }

// ErrExited is returned by WaitReady when the component's process ended.
var ErrExited = errors.New("exited before it was ready")

// maxProbeBody bounds what a readiness probe reads of an answer.
const maxProbeBody = 64 << 10

// WaitReady polls c's readiness probe (an HTTP GET from the runner's host:
// FROM scratch images have no shell for an in-container check) until it
// answers as expected, ctx ends or exited is closed. addr is asked on every try
// because a restarted container's host port changes.
func WaitReady(ctx context.Context, c *Component, addr func(context.Context) (string, error), exited <-chan struct{}) error {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	var last error
	for {
		err := probe(ctx, hc, c, addr)
		if err == nil {
			return nil
		}
		if last == nil || ctx.Err() == nil {
			// A probe cut short by the deadline says less than the one before.
			last = err
		}
		select {
		case <-exited:
			return ErrExited
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", c.Name, last)
		case <-t.C:
		}
	}
}

func probe(ctx context.Context, hc *http.Client, c *Component, addr func(context.Context) (string, error)) error {
	a, err := addr(ctx)
	if err != nil {
		return err
	}
	if c.Ready.Protocol == ProbeZooKeeper {
		return zkserver.Probe(ctx, a)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a+c.Ready.Path, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	want := c.Ready.Status
	if want == 0 {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s answered %d, want %d", c.Ready.Path, resp.StatusCode, want)
	}
	if c.Ready.Body == "" {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", c.Ready.Path, err)
	}
	if !strings.Contains(string(body), c.Ready.Body) {
		return fmt.Errorf("%s answered without %q: %.200s", c.Ready.Path, c.Ready.Body, body)
	}
	return nil
}
