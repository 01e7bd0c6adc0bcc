package process

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/runner"
)

// demoApp builds cmd/demoapp, the one binary of the topology that needs
// nothing else, to exercise the provider with a real process.
func demoApp(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	root, err := runner.ModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := runner.Build(ctx, root, dir, runner.BinDemoApp); err != nil {
		t.Fatal(err)
	}
	return dir
}

func appComponent(name string) *runner.Component {
	c := &runner.Component{Name: name, Role: runner.RoleApp, Binary: runner.BinDemoApp,
		Ports: []runner.Port{{Name: "http", Container: 8080}}, Ready: runner.Probe{Port: "http", Path: "/actuator/health"}}
	c.Args = func(n runner.Net) []string {
		return []string{"--service", "orders", "--listen", n.Listen(c.Name, "http"), "--log-level", "warn"}
	}
	return c
}

func status(t *testing.T, addr string, timeout time.Duration) int {
	t.Helper()
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestProcessLifecycleAndFaults(t *testing.T) {
	bin := demoApp(t)
	work := t.TempDir()
	p := New()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	direct, proxied := appComponent("direct"), appComponent("proxied")
	n, err := p.Prepare(ctx, []*runner.Component{direct, proxied}, runner.Env{
		BinDir: bin, WorkDir: work, Scenario: "t", Log: slog.New(slog.DiscardHandler),
		Proxied: func(c string) bool { return c == "proxied" },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	for _, c := range []*runner.Component{direct, proxied} {
		if err := p.Start(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	addr, _ := p.HostAddr(ctx, "direct", "http")
	if addr != n.Listen("direct", "http") || n.Dial("direct", "http") != addr || status(t, addr, time.Second) != 200 {
		t.Fatalf("direct component at %s (dial %s) not answering", addr, n.Dial("direct", "http"))
	}

	// Pause: the socket stays, nothing answers; resume: answers again.
	if err := p.Pause(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if code := status(t, addr, 300*time.Millisecond); code != 0 {
		t.Fatalf("paused process answered %d", code)
	}
	if err := p.Resume(ctx, "direct"); err != nil {
		t.Fatal(err)
	}
	if code := status(t, addr, 5*time.Second); code != 200 {
		t.Fatalf("resumed process answered %d", code)
	}

	// Kill, then start again on the same port.
	if err := p.Stop(ctx, "direct", true); err != nil {
		t.Fatal(err)
	}
	if code := status(t, addr, time.Second); code != 0 || len(p.Stray()) != 1 {
		t.Fatalf("killed process answered %d; %d processes alive", code, len(p.Stray()))
	}
	if err := p.Start(ctx, direct); err != nil {
		t.Fatal(err)
	}
	if code := status(t, addr, time.Second); code != 200 {
		t.Fatalf("restarted process answered %d", code)
	}

	// The proxied component is dialled through its fault proxy.
	via := n.Dial("proxied", "http")
	if via == n.Listen("proxied", "http") || status(t, via, time.Second) != 200 {
		t.Fatalf("proxied dial address %s", via)
	}
	if err := p.Cut(ctx, "proxied"); err != nil {
		t.Fatal(err)
	}
	if code := status(t, via, time.Second); code != 0 {
		t.Fatalf("cut link answered %d", code)
	}
	if err := p.Heal(ctx, "proxied"); err != nil {
		t.Fatal(err)
	}
	if err := p.Latency(ctx, "proxied", 200*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if code := status(t, via, 5*time.Second); code != 200 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("with latency: %d after %v", code, time.Since(start))
	}
	if err := p.Cut(ctx, "direct"); err == nil || !strings.Contains(err.Error(), "topology.proxied") {
		t.Fatalf("cut of an unproxied component: %v", err)
	}

	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s := p.Stray(); len(s) != 0 {
		t.Fatalf("processes alive after Close: %v", s)
	}
	if b, err := os.ReadFile(filepath.Join(work, "direct", "direct.log")); err != nil || strings.Count(string(b), "--- ") < 4 {
		t.Fatalf("log of two runs (start and exit markers): %v\n%s", err, b)
	}
}

func TestPrepareRefusesImages(t *testing.T) {
	p := New()
	img := &runner.Component{Name: "consul", Role: runner.RoleContainer, Image: "hashicorp/consul:1.19",
		Ports: []runner.Port{{Name: "http", Container: 8500}}, Args: func(runner.Net) []string { return nil }}
	_, err := p.Prepare(context.Background(), []*runner.Component{appComponent("orders-v1-0"), img}, runner.Env{WorkDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "topology.containers (consul: hashicorp/consul:1.19): the process provider cannot run images") {
		t.Fatalf("err = %v", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
