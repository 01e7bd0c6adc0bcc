package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelperHost()
		return
	}
	if os.Getenv(benchServerEnv) != "" {
		os.Exit(runBenchServer())
	}
	if os.Getenv(pipeEchoEnv) != "" {
		os.Exit(runPipeEcho())
	}
	os.Exit(plugintest.Main(m))
}

// binary, checksum and pluginConfig are plugintest's, under short names.
var (
	binary       = plugintest.Binary
	checksum     = plugintest.Checksum
	pluginConfig = plugintest.Config
	processGone  = plugintest.ProcessGone
	processesOf  = plugintest.ProcessesOf
)

// startHost starts the plugins and closes them when the test ends.
func startHost(t testing.TB, cfgs ...host.Config) *host.Host {
	t.Helper()
	return startHostWith(t, host.Options{Logger: slog.New(slog.DiscardHandler)}, cfgs...)
}

func startHostWith(t testing.TB, opts host.Options, cfgs ...host.Config) *host.Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := host.Start(ctx, cfgs, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func mustPlugin(t testing.TB, h *host.Host, name string) *host.Plugin {
	t.Helper()
	p, ok := h.Plugin(name)
	if !ok {
		t.Fatalf("no plugin %q", name)
	}
	return p
}

// echo is the upstream of the test chains: it answers 200 with the request
// it received as JSON, and counts its calls.
type echo struct {
	mu    sync.Mutex
	calls int
}

type echoed struct {
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(echoed{Host: r.Host, Header: r.Header, Body: string(body)})
}

func (e *echo) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// chainServer serves plugin → next over real HTTP.
func chainServer(t testing.TB, p *host.Plugin, next http.Handler) *httptest.Server {
	t.Helper()
	h, err := host.HTTPMiddleware(p, next)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	status int
	header http.Header
	body   string
	echo   echoed
}

func do(t testing.TB, req *http.Request) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(req.Context(), 20*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(b, &r.echo) // error bodies are JSON too; they leave echo empty
	}
	return r
}

func get(t testing.TB, url string, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return do(t, req)
}

// The helper host: the crash test runs this test binary as a host that
// starts one plugin, prints its pid, and waits to be killed.
const helperEnv = "MESHBRIDGE_PLUGIN_TEST_HELPER_HOST"

func runHelperHost() {
	var cfg host.Config
	if err := json.Unmarshal([]byte(os.Getenv(helperEnv)), &cfg); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	h, err := host.Start(context.Background(), []host.Config{cfg}, host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	p, _ := h.Plugin(cfg.Name)
	fmt.Println("pid", p.Stats().PID)
	select {} // until the test kills this process
}

// startHelperHost runs the helper host and returns it with its plugin's pid.
func startHelperHost(t *testing.T, cfg host.Config) (*exec.Cmd, int) {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+string(b))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) // already dead in the normal case
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Scan()
		line <- s.Text()
	}()
	select {
	case l := <-line:
		pidText, ok := strings.CutPrefix(l, "pid ")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 {
			t.Fatalf("helper host said %q", l)
		}
		return cmd, pid
	case <-time.After(30 * time.Second):
		t.Fatal("helper host did not report its plugin")
	}
	return nil, 0
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// startError starts a host with cfg, which must fail, and returns why;
// when it starts, the test fails with ifStarted.
func startError(t *testing.T, cfg host.Config, ifStarted string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := host.Start(ctx, []host.Config{cfg}, host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		h.Close()
		t.Fatal(ifStarted)
	}
	return err
}
