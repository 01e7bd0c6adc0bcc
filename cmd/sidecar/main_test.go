package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/config/configtest"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// buildBinary compiles cmd/sidecar once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sidecar")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestMain fails the run if a plugin process outlives its test.
func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

// run runs the command as main does, with the test's context and buffers.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return app.Run(ctx, command, args, stdout, stderr)
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"version", []string{"--version"}, app.ExitOK, "sidecar dev", ""},
		{"help", []string{"--help"}, app.ExitOK, "", "-service-ports ports"},
		{"no service", nil, app.ExitUsage, "", "service.name: required"},
		{"bad ports", []string{"--service", "a", "--service-ports", "rest"}, app.ExitUsage, "", "name:port"},
		{"stray argument", []string{"extra"}, app.ExitUsage, "", "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.out) || !strings.Contains(stderr.String(), tt.err) {
				t.Errorf("run(%v) = %d\nstdout %q\nstderr %q\nwant %d, stdout ~%q, stderr ~%q", tt.args, code, stdout.String(), stderr.String(), tt.code, tt.out, tt.err)
			}
		})
	}
}

func TestBadConfigIsRejected(t *testing.T) {
	configtest.RejectsBad(t, func(t *testing.T, path string) error {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"--config", path}, &out, &errOut); code != app.ExitUsage {
			t.Fatalf("exit %d, want %d; stderr %q", code, app.ExitUsage, errOut.String())
		}
		return errors.New(errOut.String())
	})
}

// The built binary finishes a request in flight after SIGTERM, then exits 0
// and stops listening.
func TestDrainOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()

	// A control plane with one slow app instance.
	st, err := embedded.Open(embedded.Options{Dir: t.TempDir(), Expiry: embedded.ExpiryOptions{Disabled: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cln, _ := net.Listen("tcp", "127.0.0.1:0")
	csrv := &http.Server{Handler: control.NewServer(st, control.ServerOptions{MaxWait: 2 * time.Second}).Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = csrv.Serve(cln) }()
	defer csrv.Close()
	controlURL := "http://" + cln.Addr().String()

	var inFlight atomic.Int64
	aln, _ := net.Listen("tcp", "127.0.0.1:0")
	app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		time.Sleep(800 * time.Millisecond)
		_, _ = io.WriteString(w, "slow answer")
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = app.Serve(aln) }()
	defer app.Close()
	client, _ := control.NewClient(controlURL)
	_, port, _ := net.SplitHostPort(aln.Addr().String())
	p, _ := strconv.Atoi(port)
	if _, err := client.Register(ctx, &registry.Instance{ID: "slow-1", Service: "slow", Host: "127.0.0.1", Port: p}); err != nil {
		t.Fatal(err)
	}

	egress, ingress, admin := loopback.Addr(t), loopback.Addr(t), loopback.Addr(t)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--service", "caller", "--control", controlURL,
		"--egress", egress, "--ingress", ingress, "--admin", admin)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("sidecar stderr:\n%s", stderr.String())
		}
	}()
	// Ready once the first table arrived.
	poll.UntilNil(t, "the sidecar ready", poll.GetOK("http://"+admin+"/readyz"), poll.Within(20*time.Second))

	proxyURL, _ := url.Parse("http://" + egress)
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}, Timeout: 10 * time.Second}
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := hc.Get("http://slow/work")
		if err != nil {
			done <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, string(b), err}
	}()
	poll.Until(t, "the request to reach the app", func() bool { return inFlight.Load() > 0 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.status != 200 || r.body != "slow answer" {
		t.Errorf("request in flight during SIGTERM: status %d body %q err %v; want 200 \"slow answer\"", r.status, r.body, r.err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Errorf("sidecar exit: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("sidecar did not exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "drained") {
		t.Errorf("no drain in the log")
	}
	if c, err := net.DialTimeout("tcp", egress, time.Second); err == nil {
		c.Close()
		t.Error("egress still listening after exit")
	}
}

// A real plugin process in the built sidecar's inbound chain: the
// header-injector example adds a header the app then sees.
func TestPluginInInboundChain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	bin := buildBinary(t)
	plug := plugintest.Binary(t, "header-injector")

	seen := make(chan string, 1)
	aln, _ := net.Listen("tcp", "127.0.0.1:0")
	app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- r.Header.Get("X-Team"):
		default:
		}
		_, _ = io.WriteString(w, "ok")
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = app.Serve(aln) }()
	defer app.Close()
	_, appPort, _ := net.SplitHostPort(aln.Addr().String())

	ingress, egress, admin := loopback.Addr(t), loopback.Addr(t), loopback.Addr(t)
	cfgPath := filepath.Join(t.TempDir(), "sidecar.yaml")
	cfg := fmt.Sprintf(`service:
  name: app
  ports: [{name: rest, port: %s}]
control:
  address: ""
ingress:
  listen: %s
  chain: [plugin, transport]
plugins:
  - name: inject
    path: %s
    args: ["-set", "X-Team: payments"]
    sha256: %s
handlers:
  plugin:
    plugins: [inject]
`, appPort, ingress, plug, plugintest.Checksum(t, plug))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath, "--egress", egress, "--admin", admin)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("sidecar stderr:\n%s", stderr.String())
		}
	}()
	poll.UntilNil(t, "the ingress to answer", poll.GetOK("http://"+ingress+"/hello"), poll.Within(20*time.Second))
	select {
	case got := <-seen:
		if got != "payments" {
			t.Fatalf("app saw X-Team %q, want the plugin's payments", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("app never called")
	}
	// The plugin host's metrics are on the sidecar's /metrics.
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`meshbridge_plugin_calls_total{call="request",plugin="inject",result="ok"}`, `meshbridge_plugin_up{plugin="inject"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
