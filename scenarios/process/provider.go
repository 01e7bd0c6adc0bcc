package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/procstate"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/faultproxy"
	"github.com/meshbridge/meshbridge/scenarios/runner"
)

// Name is the provider's registered name.
const Name = "process"

func init() {
	runner.RegisterProvider(Name, runner.Factory{
		New:       func() runner.Provider { return New() },
		Available: func(context.Context) string { return "" },
	})
}

// Timeouts of the provider.
const (
	readyTimeout = 30 * time.Second
	drainTimeout = 10 * time.Second
)

// Provider runs components as local processes.
type Provider struct {
	env     runner.Env
	mu      sync.Mutex
	comps   map[string]*runner.Component
	ports   map[string]map[string]int // comp -> port name -> port
	procs   map[string]*proc
	proxies map[string][]*faultproxy.Proxy
	ctx     context.Context // lives until Close: proxies serve under it
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	paused atomic.Bool // SIGSTOPped: must be thawed before a drain
	log    *os.File
}

// New returns an empty provider.
func New() *Provider {
	ctx, cancel := context.WithCancel(context.Background())
	return &Provider{comps: map[string]*runner.Component{}, ports: map[string]map[string]int{},
		procs: map[string]*proc{}, proxies: map[string][]*faultproxy.Proxy{}, ctx: ctx, cancel: cancel}
}

var _ runner.Provider = (*Provider)(nil)

// Prepare allocates a loopback port for every listener and starts the
// fault proxies.
func (p *Provider) Prepare(_ context.Context, comps []*runner.Component, env runner.Env) (runner.Net, error) {
	p.env = env
	for _, c := range comps {
		if c.Image != "" {
			// The runner refuses such a scenario first (Factory.RunsImages);
			// this guards callers that drive the provider directly.
			return nil, fmt.Errorf("process: topology.containers (%s: %s): the process provider cannot run images", c.Name, c.Image)
		}
	}
	for _, c := range comps {
		p.comps[c.Name] = c
		ports := map[string]int{}
		for _, port := range c.Ports {
			if port.Follows != "" {
				continue
			}
			n, err := loopback.FreePort(followers(c, port.Name)...)
			if err != nil {
				return nil, fmt.Errorf("process: ports of %s: %w", c.Name, err)
			}
			ports[port.Name] = n
		}
		for _, port := range c.Ports {
			if port.Follows != "" {
				ports[port.Name] = ports[port.Follows] + port.Offset
			}
		}
		p.ports[c.Name] = ports
		if env.Proxied != nil && env.Proxied(c.Name) {
			for _, port := range c.Ports {
				px, err := faultproxy.Listen("127.0.0.1:0", p.addr(c.Name, port.Name), env.Log)
				if err != nil {
					return nil, err
				}
				p.proxies[c.Name] = append(p.proxies[c.Name], px)
				p.proxyAddr(c.Name, port.Name, px.Addr())
				p.wg.Add(1)
				go func() { defer p.wg.Done(); _ = px.Serve(p.ctx) }() // ends with Close
			}
		}
	}
	return processNet{p}, nil
}

// followers lists the offsets that must be free beside a port.
func followers(c *runner.Component, name string) []int {
	var out []int
	for _, port := range c.Ports {
		if port.Follows == name {
			out = append(out, port.Offset)
		}
	}
	return out
}

func (p *Provider) addr(comp, port string) string {
	return "127.0.0.1:" + strconv.Itoa(p.ports[comp][port])
}

// proxyAddr records the proxy address of a port under "proxy:<port>".
func (p *Provider) proxyAddr(comp, port, addr string) {
	_, ps, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(ps)
	p.ports[comp]["proxy:"+port] = n
}

type processNet struct{ p *Provider }

func (n processNet) Listen(comp, port string) string { return n.p.addr(comp, port) }
func (n processNet) Local(comp, port string) string  { return n.p.addr(comp, port) }
func (n processNet) Dial(comp, port string) string {
	if v, ok := n.p.ports[comp]["proxy:"+port]; ok {
		return "127.0.0.1:" + strconv.Itoa(v)
	}
	return n.p.addr(comp, port)
}
func (n processNet) DataDir(comp string) string { return filepath.Join(n.p.env.WorkDir, comp, "data") }

// Logs is the component's log file.
func (p *Provider) Logs(comp string) string { return filepath.Join(p.env.WorkDir, comp, comp+".log") }

// Start runs the component's binary and waits for its readiness probe.
func (p *Provider) Start(ctx context.Context, c *runner.Component) error {
	p.mu.Lock()
	if pr := p.procs[c.Name]; pr != nil && !pr.done() {
		p.mu.Unlock()
		return fmt.Errorf("process: %s is already running", c.Name)
	}
	p.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(p.Logs(c.Name)), 0o755); err != nil {
		return fmt.Errorf("process: %w", err)
	}
	logf, err := os.OpenFile(p.Logs(c.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	args := c.Args(processNet{p})
	if c.Files != nil {
		for path, body := range c.Files(processNet{p}) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				logf.Close()
				return fmt.Errorf("process: %s: %w", c.Name, err)
			}
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				logf.Close()
				return fmt.Errorf("process: %s: %w", c.Name, err)
			}
		}
	}
	prog := filepath.Join(p.env.BinDir, c.Binary)
	if c.Program != "" {
		prog = c.Program
	}
	fmt.Fprintf(logf, "--- %s start %s %v\n", time.Now().Format(time.RFC3339Nano), prog, args)
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=")
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("process: start %s: %w", c.Name, err)
	}
	pr := &proc{cmd: cmd, exited: make(chan struct{}), log: logf}
	go func() {
		pr.err = cmd.Wait()
		fmt.Fprintf(logf, "--- %s exit: %v\n", time.Now().Format(time.RFC3339Nano), pr.err)
		logf.Close()
		close(pr.exited)
	}()
	p.mu.Lock()
	p.procs[c.Name] = pr
	p.mu.Unlock()
	return p.waitReady(ctx, c, pr)
}

func (pr *proc) done() bool {
	select {
	case <-pr.exited:
		return true
	default:
		return false
	}
}

func (p *Provider) waitReady(ctx context.Context, c *runner.Component, pr *proc) error {
	within := readyTimeout
	if c.Ready.Timeout > 0 {
		within = c.Ready.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	addr := func(context.Context) (string, error) { return p.addr(c.Name, c.Ready.Port), nil }
	if err := runner.WaitReady(ctx, c, addr, pr.exited); err != nil {
		if errors.Is(err, runner.ErrExited) {
			err = fmt.Errorf("%s exited before it was ready (%v)", c.Name, pr.err)
		}
		return fmt.Errorf("process: %w; log %s:\n%s", err, p.Logs(c.Name), tail(p.Logs(c.Name)))
	}
	return nil
}

// tail returns the last lines of a log file.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

func (p *Provider) running(name string) (*proc, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pr := p.procs[name]
	if pr == nil || pr.done() {
		return nil, fmt.Errorf("process: %s is not running", name)
	}
	return pr, nil
}

// Stop sends SIGTERM and waits for the drain (SIGKILL after drainTimeout),
// or SIGKILL at once when kill.
func (p *Provider) Stop(ctx context.Context, name string, kill bool) error {
	pr, err := p.running(name)
	if err != nil {
		return err
	}
	return p.stop(ctx, pr, kill)
}

func (p *Provider) stop(ctx context.Context, pr *proc, kill bool) error {
	if pr.paused.Swap(false) {
		_ = pr.cmd.Process.Signal(syscall.SIGCONT) // a stopped process cannot drain
	}
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	_ = pr.cmd.Process.Signal(sig) // it may have exited meanwhile; exited tells
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-pr.exited:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	_ = pr.cmd.Process.Kill() // the drain took too long or we are giving up
	<-pr.exited
	return nil
}

// Pause freezes a component (SIGSTOP): its sockets stay open, nothing answers.
func (p *Provider) Pause(_ context.Context, name string) error {
	pr, err := p.running(name)
	if err != nil {
		return err
	}
	pr.paused.Store(true)
	if err := pr.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	// The stop reaches each thread asynchronously: wait until every one is
	// stopped, so nothing the caller does next is still answered.
	return procstate.WaitStopped(pr.cmd.Process.Pid, 2*time.Second)
}

// Resume thaws a paused component.
func (p *Provider) Resume(_ context.Context, name string) error {
	pr, err := p.running(name)
	if err != nil {
		return err
	}
	pr.paused.Store(false)
	return pr.cmd.Process.Signal(syscall.SIGCONT)
}

func (p *Provider) proxiesOf(name string) ([]*faultproxy.Proxy, error) {
	px := p.proxies[name]
	if len(px) == 0 {
		return nil, fmt.Errorf("process: %s has no fault proxy: list it under topology.proxied", name)
	}
	return px, nil
}

// Latency delays what the component sends back over its inbound links.
func (p *Provider) Latency(_ context.Context, name string, delay, jitter time.Duration) error {
	px, err := p.proxiesOf(name)
	for _, x := range px {
		x.SetLatency(delay, jitter)
	}
	return err
}

// Cut breaks the component's inbound links.
func (p *Provider) Cut(_ context.Context, name string) error {
	px, err := p.proxiesOf(name)
	for _, x := range px {
		x.Cut()
	}
	return err
}

// Heal restores the component's inbound links.
func (p *Provider) Heal(_ context.Context, name string) error {
	px, err := p.proxiesOf(name)
	for _, x := range px {
		x.Heal()
	}
	return err
}

// HostAddr is the loopback address of the port.
func (p *Provider) HostAddr(_ context.Context, comp, port string) (string, error) {
	if _, ok := p.ports[comp][port]; !ok {
		return "", fmt.Errorf("process: %s has no port %q", comp, port)
	}
	return p.addr(comp, port), nil
}

// Close stops every process (all at once, each drained) and the proxies.
func (p *Provider) Close(ctx context.Context) error {
	p.mu.Lock()
	procs := make([]*proc, 0, len(p.procs))
	for _, pr := range p.procs {
		procs = append(procs, pr)
	}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, pr := range procs {
		if pr.done() {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.stop(ctx, pr, false) }() // stop always ends the process
	}
	wg.Wait()
	p.cancel()
	p.wg.Wait()
	if p.env.Log != nil {
		p.env.Log.Debug("process provider closed", "processes", len(procs))
	}
	return nil
}

// Stray returns the PIDs of processes still alive (tests check it is empty).
func (p *Provider) Stray() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []int
	for _, pr := range p.procs {
		if !pr.done() {
			out = append(out, pr.cmd.Process.Pid)
		}
	}
	return out
}
