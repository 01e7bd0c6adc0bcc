package containers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/scenarios/runner"
)

func TestRequestForAnImageAndABinary(t *testing.T) {
	p := New()
	p.env = runner.Env{Scenario: "s"}
	p.images[runner.BinDemoApp] = "meshbridge/demoapp:scenario"
	consul := &runner.Component{Name: "consul", Role: runner.RoleContainer, Image: "hashicorp/consul:1.19",
		Env: map[string]string{"CONSUL_BIND_INTERFACE": "eth0"}, Ports: []runner.Port{{Name: "http", Container: 8500}},
		Args: func(runner.Net) []string { return []string{"agent", "-dev"} }}
	keepCmd := &runner.Component{Name: "nacos", Role: runner.RoleContainer, Image: "nacos/nacos-server:v2.4.3",
		Ports: []runner.Port{{Name: "http", Container: 8848}}, Args: func(runner.Net) []string { return nil }}
	app := &runner.Component{Name: "orders-v1-0", Role: runner.RoleApp, Binary: runner.BinDemoApp,
		Ports: []runner.Port{{Name: "http", Container: 8080}}, Args: func(n runner.Net) []string { return []string{"--listen", n.Listen("orders-v1-0", "http")} }}
	for _, c := range []*runner.Component{consul, keepCmd, app} {
		p.comps[c.Name] = c
	}

	req := p.request(consul)
	if req.Image != "hashicorp/consul:1.19" || strings.Join(req.Cmd, " ") != "agent -dev" || req.Env["CONSUL_BIND_INTERFACE"] != "eth0" ||
		req.Labels["meshbridge.scenario"] != "s" || req.Labels["meshbridge.component"] != "consul" || !strings.HasPrefix(req.Name, "s-consul-") {
		t.Fatalf("image request %+v", req)
	}
	if req := p.request(keepCmd); req.Cmd != nil {
		t.Fatalf("a container without args must keep its image's CMD, got %q", req.Cmd)
	}
	if req := p.request(app); req.Image != "meshbridge/demoapp:scenario" || strings.Join(req.Cmd, " ") != "--listen 0.0.0.0:8080" {
		t.Fatalf("binary request %+v", req)
	}
	if got := (containerNet{p}).Dial("consul", "http"); got != "consul:8500" {
		t.Fatalf("other components reach the container at %s", got)
	}
}

// A container whose image is neither here nor pullable fails Prepare with
// the container and image named, within the pull bound, and leaves nothing.
func TestPrepareNamesAnImageItCannotGet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if why := Available(ctx); why != "" {
		t.Skip(why)
	}
	p := New()
	p.pullTimeout = 3 * time.Second
	const image = "meshbridge-e2e/no-such-image:never"
	c := &runner.Component{Name: "ghost", Role: runner.RoleContainer, Image: image,
		Ports: []runner.Port{{Name: "http", Container: 80}}, Args: func(runner.Net) []string { return nil }}
	start := time.Now()
	_, err := p.Prepare(ctx, []*runner.Component{c}, runner.Env{Scenario: "pull-test", WorkDir: t.TempDir()})
	// Offline the pull is retried until the bound; where a registry
	// answers, "not found" ends it at once.
	if err == nil || !strings.Contains(err.Error(), "topology.containers ghost: image "+image+" is not on this machine and pulling it failed") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("the failed pull took %v, beyond its bound", took)
	}
	if err := p.Close(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	left, err := Leftovers(ctx, "pull-test")
	if err != nil || len(left) > 0 {
		t.Fatalf("left behind: %v %v", left, err)
	}
}

// An image made on this machine (BuiltBy) that is missing is not pulled:
// Prepare says at once how to make it, as a *runner.MissingError (the run
// is skipped with it), and leaves nothing.
func TestPrepareNamesHowToBuildAMissingLocalImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if why := Available(ctx); why != "" {
		t.Skip(why)
	}
	p := New()
	const image = "meshbridge-e2e/no-such-local-image:never"
	c := &runner.Component{Name: "legacy-zk", Role: runner.RoleLegacy, Image: image, BuiltBy: "make no-such-image",
		Ports: []runner.Port{{Name: "client", Container: 2181}}, Args: func(runner.Net) []string { return nil }}
	start := time.Now()
	_, err := p.Prepare(ctx, []*runner.Component{c}, runner.Env{Scenario: "local-image-test", WorkDir: t.TempDir()})
	var missing *runner.MissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "image "+image+" (legacy-zk)") || !strings.Contains(err.Error(), "build it with make no-such-image") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %v: it must not try to pull", took)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	left, err := Leftovers(ctx, "local-image-test")
	if err != nil || len(left) > 0 {
		t.Fatalf("left behind: %v %v", left, err)
	}
}
