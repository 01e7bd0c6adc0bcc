package host_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/plugins/host"
)

// binDir holds the plugin binaries the tests build, once per test run.
var binDir string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelperHost()
		return
	}
	dir, err := os.MkdirTemp("", "meshbridge-plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	if leaked := leakedPlugins(5 * time.Second); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "plugin processes outlived their tests: %v\n", leaked)
		code = 1
	}
	_ = os.RemoveAll(dir) // a leftover temp dir is not worth failing the run
	os.Exit(code)
}

// leakedPlugins waits up to within for every process running a binary the
// tests built to be gone, and returns those that are not.
func leakedPlugins(within time.Duration) map[string][]int {
	deadline := time.Now().Add(within)
	for {
		leaked := map[string][]int{}
		entries, _ := os.ReadDir(binDir)
		for _, e := range entries {
			path := filepath.Join(binDir, e.Name())
			if pids := processesOf(path); len(pids) > 0 {
				leaked[path] = pids
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var builds sync.Map // binary name -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// binary builds an example plugin (plugins/examples/<name>) or the test
// plugin ("testplugin") with go build, once per test run, and returns its path.
func binary(t testing.TB, name string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() {
		dir, pkg := "../examples", "./"+name
		if name == "testplugin" {
			dir, pkg = ".", "./testdata/testplugin"
		}
		b.path = filepath.Join(binDir, name)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.path, pkg)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func checksum(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// pluginConfig is a configuration for a built plugin with test-friendly
// timings: a generous call timeout (the machine is shared) and quick
// restarts.
func pluginConfig(t testing.TB, name, bin string, args ...string) host.Config {
	path := binary(t, bin)
	return host.Config{
		Name:            name,
		Path:            path,
		Args:            args,
		SHA256:          checksum(t, path),
		Timeout:         control.Duration(5 * time.Second),
		RestartBackoff:  control.Duration(20 * time.Millisecond),
		RestartMaxDelay: control.Duration(time.Second),
		HealthInterval:  control.Duration(time.Second),
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startHost starts the plugins and closes them when the test ends.
func startHost(t testing.TB, cfgs ...host.Config) *host.Host {
	t.Helper()
	return startHostWith(t, host.Options{Logger: quietLogger()}, cfgs...)
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

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processGone reports whether pid has exited: no /proc entry, or a zombie
// waiting for a parent that is not ours to make reap it.
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
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
	h, err := host.Start(context.Background(), []host.Config{cfg}, host.Options{Logger: quietLogger()})
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
