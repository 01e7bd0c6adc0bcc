package containers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	tc "github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"

	"github.com/meshbridge/meshbridge/scenarios/runner"
)

// Name is the provider's registered name.
const Name = "container"

// ImageRepo prefixes the images built for scenarios (meshbridge/<binary>:scenario).
const ImageRepo = "meshbridge"

func init() {
	// Ryuk (the reaper container) would have to be pulled; this provider
	// removes what it starts itself.
	setDefaultEnv("TESTCONTAINERS_RYUK_DISABLED", "true")
	// Mapped ports are published on the host's loopback; without this
	// testcontainers may guess a gateway address instead.
	setDefaultEnv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	// Quiet until a run hands over its logger (Prepare).
	tclog.SetDefault(tclog.NewNoopLogger())
	runner.RegisterProvider(Name, runner.Factory{New: func() runner.Provider { return New() }, Available: Available, RunsImages: true})
}

func setDefaultEnv(k, v string) {
	if os.Getenv(k) == "" {
		os.Setenv(k, v)
	}
}

// Timeouts of the provider.
const (
	readyTimeout = 60 * time.Second
	stopTimeout  = 10 * time.Second
	pingTimeout  = 5 * time.Second
)

// Available says why no container can run here ("" when a Docker engine answers).
func Available(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return "container provider: no Docker engine: " + err.Error()
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return "container provider: the Docker engine does not answer: " + err.Error()
	}
	return ""
}

// Provider runs components as containers.
type Provider struct {
	env     runner.Env
	comps   map[string]*runner.Component
	members map[string][]*runner.Component // pod owner -> components sharing its network
	cli     *tc.DockerClient
	net     *tc.DockerNetwork
	mu      sync.Mutex
	ctrs    map[string]*tc.DockerContainer
	images  map[string]string
	logs    map[string]*os.File
	// pullTimeout bounds each image pull (tests shorten it).
	pullTimeout time.Duration
}

// New returns an empty provider.
func New() *Provider {
	return &Provider{comps: map[string]*runner.Component{}, members: map[string][]*runner.Component{},
		ctrs: map[string]*tc.DockerContainer{}, images: map[string]string{}, logs: map[string]*os.File{}, pullTimeout: defaultPullTimeout}
}

var (
	_ runner.Provider = (*Provider)(nil)
	_ runner.Execer   = (*Provider)(nil)
)

// owner is the component whose network namespace c lives in.
func (p *Provider) owner(c string) string {
	if comp := p.comps[c]; comp != nil && comp.Pod != "" {
		return comp.Pod
	}
	return c
}

// Prepare builds one image per binary and creates the scenario's network.
func (p *Provider) Prepare(ctx context.Context, comps []*runner.Component, env runner.Env) (runner.Net, error) {
	p.env = env
	if env.Log != nil {
		// testcontainers narrates every container; keep that at debug level.
		tclog.SetDefault(printfLogger{env.Log.With("component", "testcontainers")})
	}
	for _, c := range comps {
		p.comps[c.Name] = c
	}
	for _, c := range comps {
		if c.Program != "" {
			// The runner plans an image instead (a legacy ZooKeeper's); this
			// guards callers that drive the provider directly.
			return nil, fmt.Errorf("container provider: %s runs an installed program (%s), which has no image; use the process provider", c.Name, c.Program)
		}
		if p.env.Proxied != nil && p.env.Proxied(c.Name) {
			return nil, fmt.Errorf("container provider: topology.proxied (%s) needs the process provider; cut and heal use network disconnects here", c.Name)
		}
		o := p.owner(c.Name)
		p.members[o] = append(p.members[o], c)
	}
	var err error
	if p.cli, err = tc.NewDockerClientWithOpts(ctx); err != nil {
		return nil, fmt.Errorf("container provider: %w", err)
	}
	var pulls []*imageComponent
	for _, c := range comps {
		if c.Image != "" {
			pulls = append(pulls, &imageComponent{name: c.Name, image: c.Image, builtBy: c.BuiltBy})
			continue
		}
		if _, done := p.images[c.Binary]; done {
			continue
		}
		img, err := p.buildImage(ctx, c.Binary)
		if err != nil {
			return nil, err
		}
		p.images[c.Binary] = img
	}
	if err := p.pullMissing(ctx, pulls); err != nil {
		return nil, err
	}
	// Each build re-tags meshbridge/<binary>:scenario; the image it replaced
	// is left dangling. Remove those (ours only, by label).
	if _, err := p.cli.ImagePrune(ctx, client.ImagePruneOptions{Filters: make(client.Filters).
		Add("dangling", "true").Add("label", "org.meshbridge.binary")}); err != nil && env.Log != nil {
		env.Log.Warn("could not prune replaced images", "error", err)
	}
	if p.net, err = tcnetwork.New(ctx, tcnetwork.WithLabels(map[string]string{"meshbridge.scenario": env.Scenario})); err != nil {
		return nil, fmt.Errorf("container provider: network: %w", err)
	}
	return containerNet{p}, nil
}

func (p *Provider) port(comp, name string) int {
	for _, port := range p.comps[comp].Ports {
		if port.Name == name {
			return port.Container
		}
	}
	return 0
}

type containerNet struct{ p *Provider }

func (n containerNet) Listen(comp, port string) string {
	return "0.0.0.0:" + strconv.Itoa(n.p.port(comp, port))
}

// Dial reaches the pod owner's alias on the scenario network.
func (n containerNet) Dial(comp, port string) string {
	return n.p.owner(comp) + ":" + strconv.Itoa(n.p.port(comp, port))
}

func (n containerNet) Local(comp, port string) string {
	return "127.0.0.1:" + strconv.Itoa(n.p.port(comp, port))
}

func (containerNet) DataDir(string) string { return "/data" }

// Logs is the component's log file (container output is copied there when
// the container stops).
func (p *Provider) Logs(comp string) string {
	return filepath.Join(p.env.WorkDir, comp, comp+".log")
}

// Start creates and starts the component's container, or starts it again
// after Stop, and waits for its readiness probe over a mapped port.
func (p *Provider) Start(ctx context.Context, c *runner.Component) error {
	p.mu.Lock()
	ctr := p.ctrs[c.Name]
	p.mu.Unlock()
	if ctr != nil {
		if err := ctr.Start(ctx); err != nil {
			return fmt.Errorf("container provider: start %s again: %w", c.Name, err)
		}
		if err := p.waitReady(ctx, c); err != nil {
			return err
		}
		// A pod starts as a unit: its members join the new network namespace.
		for _, m := range p.podMembers(c.Name) {
			if err := p.Start(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}
	req := p.request(c)
	if c.Pod != "" {
		p.mu.Lock()
		owner := p.ctrs[c.Pod]
		p.mu.Unlock()
		if owner == nil {
			return fmt.Errorf("container provider: %s joins %s, which is not started", c.Name, c.Pod)
		}
		id := owner.GetContainerID()
		req.HostConfigModifier = func(hc *container.HostConfig) { hc.NetworkMode = container.NetworkMode("container:" + id) }
	} else {
		req.Networks = []string{p.net.Name}
		req.NetworkAliases = map[string][]string{p.net.Name: {c.Name}}
		for _, m := range p.members[c.Name] {
			for _, port := range m.Ports {
				req.ExposedPorts = append(req.ExposedPorts, strconv.Itoa(port.Container)+"/tcp")
			}
		}
		req.HostConfigModifier = func(hc *container.HostConfig) {
			// Publish on loopback only: nothing outside this machine reaches a scenario.
			for port, bindings := range hc.PortBindings {
				for i := range bindings {
					bindings[i].HostIP = netip.MustParseAddr(loopback)
				}
				hc.PortBindings[port] = bindings
			}
		}
	}
	gc, err := tc.GenericContainer(ctx, tc.GenericContainerRequest{ContainerRequest: req, Started: true})
	if gc != nil {
		dc, _ := gc.(*tc.DockerContainer)
		p.mu.Lock()
		p.ctrs[c.Name] = dc
		p.mu.Unlock()
	}
	if err != nil {
		return fmt.Errorf("container provider: start %s: %w", c.Name, err)
	}
	return p.waitReady(ctx, c)
}

// request describes c's container before its network is chosen: the
// image built for its binary or the one it names, its command line (an
// image's own CMD when it has no arguments), environment and labels.
func (p *Provider) request(c *runner.Component) tc.ContainerRequest {
	req := tc.ContainerRequest{
		Image:  p.images[c.Binary],
		Name:   p.env.Scenario + "-" + c.Name + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36),
		Cmd:    c.Args(containerNet{p}),
		Env:    c.Env,
		Labels: map[string]string{"meshbridge.scenario": p.env.Scenario, "meshbridge.component": c.Name},
	}
	if c.Image != "" {
		req.Image = c.Image
	}
	if c.Files != nil {
		// Copied in before the first start; they stay for the next.
		for path, body := range c.Files(containerNet{p}) {
			req.Files = append(req.Files, tc.ContainerFile{Reader: strings.NewReader(body), ContainerFilePath: path, FileMode: 0o600})
		}
	}
	return req
}

// Exec runs cmd in the component's container and returns its output; a
// command that exits non-zero is an error carrying that output.
func (p *Provider) Exec(ctx context.Context, comp string, cmd []string) (string, error) {
	ctr, err := p.container(comp)
	if err != nil {
		return "", err
	}
	code, r, err := ctr.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("container provider: exec in %s: %w", comp, err)
	}
	out, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return "", fmt.Errorf("container provider: exec in %s: %w", comp, err)
	}
	if code != 0 {
		return "", fmt.Errorf("container provider: %s in %s exited %d: %s", strings.Join(cmd, " "), comp, code, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func (p *Provider) container(name string) (*tc.DockerContainer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.ctrs[name]
	if c == nil {
		return nil, fmt.Errorf("container provider: %s was never started", name)
	}
	return c, nil
}

// HostAddr maps the port through the pod owner's container; it is asked
// every time because a container that stopped and started again has new
// host ports.
func (p *Provider) HostAddr(ctx context.Context, comp, port string) (string, error) {
	if p.comps[comp] == nil || p.port(comp, port) == 0 {
		return "", fmt.Errorf("container provider: %s has no port %q", comp, port)
	}
	ctr, err := p.container(p.owner(comp))
	if err != nil {
		return "", err
	}
	mapped, err := ctr.MappedPort(ctx, strconv.Itoa(p.port(comp, port))+"/tcp")
	if err != nil {
		return "", fmt.Errorf("container provider: port %s of %s: %w", port, comp, err)
	}
	return loopback + ":" + strconv.Itoa(int(mapped.Num())), nil
}

const loopback = "127.0.0.1"

// waitReady polls the readiness probe over a mapped port.
func (p *Provider) waitReady(ctx context.Context, c *runner.Component) error {
	timeout := readyTimeout
	if c.Ready.Timeout > 0 {
		timeout = c.Ready.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := func(ctx context.Context) (string, error) { return p.HostAddr(ctx, c.Name, c.Ready.Port) }
	if err := runner.WaitReady(ctx, c, addr, nil); err != nil {
		p.saveLogs(context.Background(), c.Name)
		return fmt.Errorf("container provider: %w (log %s)", err, p.Logs(c.Name))
	}
	return nil
}

// saveLogs copies a container's output to its log file.
func (p *Provider) saveLogs(ctx context.Context, name string) {
	ctr, err := p.container(name)
	if err != nil {
		return
	}
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(p.Logs(name)), 0o755); err != nil {
		return
	}
	f, err := os.Create(p.Logs(name))
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, rc) // best effort: logs are for a human reading a failure
}

// podMembers are the started components living in owner's network
// namespace, owner excluded.
func (p *Provider) podMembers(owner string) []*runner.Component {
	var out []*runner.Component
	for _, m := range p.members[owner] {
		if m.Name == owner {
			continue
		}
		if _, err := p.container(m.Name); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// Stop stops the container (SIGTERM, SIGKILL after stopTimeout), or kills
// it at once. Stopping a pod owner stops its members first: they cannot
// outlive the network namespace they share.
func (p *Provider) Stop(ctx context.Context, name string, kill bool) error {
	ctr, err := p.container(name)
	if err != nil {
		return err
	}
	for _, m := range p.podMembers(name) {
		if err := p.Stop(ctx, m.Name, kill); err != nil {
			return err
		}
	}
	if kill {
		if _, err := p.cli.ContainerKill(ctx, ctr.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
			return fmt.Errorf("container provider: kill %s: %w", name, err)
		}
		return nil
	}
	d := stopTimeout
	if err := ctr.Stop(ctx, &d); err != nil {
		return fmt.Errorf("container provider: stop %s: %w", name, err)
	}
	return nil
}

// Pause freezes the container's processes.
func (p *Provider) Pause(ctx context.Context, name string) error {
	ctr, err := p.container(name)
	if err != nil {
		return err
	}
	_, err = p.cli.ContainerPause(ctx, ctr.GetContainerID(), client.ContainerPauseOptions{})
	return err
}

// Resume thaws a paused container.
func (p *Provider) Resume(ctx context.Context, name string) error {
	ctr, err := p.container(name)
	if err != nil {
		return err
	}
	_, err = p.cli.ContainerUnpause(ctx, ctr.GetContainerID(), client.ContainerUnpauseOptions{})
	return err
}

// Latency needs a fault proxy, which only the process provider places.
func (p *Provider) Latency(context.Context, string, time.Duration, time.Duration) error {
	return fmt.Errorf("latency: %w (use the process provider with topology.proxied)", runner.ErrUnsupported)
}

// Cut disconnects the component's pod from the scenario network.
func (p *Provider) Cut(ctx context.Context, name string) error {
	ctr, err := p.container(p.owner(name))
	if err != nil {
		return err
	}
	_, err = p.cli.NetworkDisconnect(ctx, p.net.ID, client.NetworkDisconnectOptions{Container: ctr.GetContainerID(), Force: true})
	return err
}

// Heal connects the pod again under its alias.
func (p *Provider) Heal(ctx context.Context, name string) error {
	owner := p.owner(name)
	ctr, err := p.container(owner)
	if err != nil {
		return err
	}
	_, err = p.cli.NetworkConnect(ctx, p.net.ID, client.NetworkConnectOptions{Container: ctr.GetContainerID(),
		EndpointConfig: &network.EndpointSettings{Aliases: []string{owner}}})
	return err
}

// Close saves every container's log, removes the containers (pod members
// before their owners) and the network.
func (p *Provider) Close(ctx context.Context) error {
	p.mu.Lock()
	var members, owners []string
	for name := range p.ctrs {
		if p.owner(name) != name {
			members = append(members, name)
		} else {
			owners = append(owners, name)
		}
	}
	p.mu.Unlock()
	var errs []error
	for _, group := range [][]string{members, owners} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, name := range group {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.saveLogs(ctx, name)
				ctr, _ := p.container(name)
				if err := ctr.Terminate(ctx); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("remove %s: %w", name, err))
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	if p.net != nil {
		if err := p.net.Remove(ctx); err != nil {
			errs = append(errs, fmt.Errorf("remove network: %w", err))
		}
	}
	if p.cli != nil {
		p.cli.Close()
	}
	return errors.Join(errs...)
}

// printfLogger sends testcontainers' messages to slog at debug level.
type printfLogger struct{ log *slog.Logger }

func (l printfLogger) Printf(format string, args ...any) {
	l.log.Debug(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

// Leftovers lists containers and networks a scenario's runs left behind
// (by the meshbridge.scenario label); after a run there must be none.
func Leftovers(ctx context.Context, scenario string) ([]string, error) {
	cli, err := tc.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", "meshbridge.scenario="+scenario)
	var out []string
	ctrs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	for _, c := range ctrs.Items {
		out = append(out, "container "+c.ID[:12]+" "+strings.Join(c.Names, ","))
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	for _, n := range nets.Items {
		out = append(out, "network "+n.Name)
	}
	return out, nil
}
