package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/procstate"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/sdk"
)

// TestSIGKILLUnderLoad kills the plugin process while requests flow
// through it: the host restarts it, and every request is decided either by
// the plugin (old or new process) or by the failure policy; the counts seen
// by the clients match the plugin's own counters.
func TestSIGKILLUnderLoad(t *testing.T) {
	for _, policy := range []host.FailurePolicy{host.FailOpen, host.FailClosed} {
		t.Run(string(policy), func(t *testing.T) {
			cfg := pluginConfig(t, "pid", "testplugin")
			cfg.FailurePolicy = policy
			h := startHost(t, cfg)
			p := mustPlugin(t, h, "pid")
			srv := chainServer(t, p, &echo{})
			oldPID := p.Stats().PID
			before := p.Stats()

			const workers = 4
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 20 * time.Second}
			defer client.CloseIdleConnections()
			var byOld, byNew, bypassed, refused atomic.Int64
			var unexpected sync.Map
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						r := doWith(client, srv.URL+"/load")
						switch pid := r.echo.Header.Get("X-Plugin-Pid"); {
						case r.status == http.StatusOK && pid == strconv.Itoa(oldPID):
							byOld.Add(1)
						case r.status == http.StatusOK && pid != "":
							byNew.Add(1)
						case r.status == http.StatusOK:
							bypassed.Add(1)
						case r.status == http.StatusServiceUnavailable && strings.Contains(r.body, `"unavailable"`):
							refused.Add(1)
						default:
							unexpected.Store(r.status, r.body)
						}
					}
				})
			}
			stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
			defer stopLoad()

			poll.Until(t, "requests served by the first process", func() bool { return byOld.Load() >= 50 }, poll.Within(20*time.Second))
			if err := syscall.Kill(oldPID, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			poll.Until(t, "a restarted process serving requests", func() bool {
				return p.Stats().Restarts == 1 && byNew.Load() >= 50
			}, poll.Within(20*time.Second))
			stopLoad()

			unexpected.Range(func(k, v any) bool { t.Errorf("unexpected answer %v: %v", k, v); return true })
			after := p.Stats()
			failures := (after.Failed + after.TimedOut + after.Unavailable) - (before.Failed + before.TimedOut + before.Unavailable)
			t.Logf("policy %s: old process %d, new process %d, bypassed %d, refused %d; plugin failures %d",
				policy, byOld.Load(), byNew.Load(), bypassed.Load(), refused.Load(), failures)
			if got := after.OK - before.OK; got != byOld.Load()+byNew.Load() {
				t.Errorf("plugin answered %d calls, clients saw %d answers", got, byOld.Load()+byNew.Load())
			}
			policyDecided, wrong := bypassed.Load(), refused.Load()
			if policy == host.FailClosed {
				policyDecided, wrong = refused.Load(), bypassed.Load()
			}
			if policyDecided == 0 || policyDecided != failures {
				t.Errorf("the policy decided %d requests, the plugin counted %d failures; want the same, at least 1", policyDecided, failures)
			}
			if wrong != 0 {
				t.Errorf("%d requests were decided against the %s policy", wrong, policy)
			}
			if after.PID == oldPID || after.PID == 0 {
				t.Errorf("pid after restart = %d (old %d)", after.PID, oldPID)
			}
			poll.Until(t, "the killed process to be gone", func() bool { return processGone(oldPID) }, poll.Within(5*time.Second))
		})
	}
}

func doWith(c *http.Client, url string) reply {
	resp, err := c.Get(url)
	if err != nil {
		return reply{status: -1, body: err.Error()}
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, resp.Body) // a short read shows up as a decode failure below
	r := reply{status: resp.StatusCode, header: resp.Header, body: buf.String()}
	if resp.StatusCode == http.StatusOK {
		_ = jsonUnmarshal(buf.Bytes(), &r.echo)
	}
	return r
}

func TestChecksumMismatchRefusesToStart(t *testing.T) {
	// The binary changes after its checksum was configured.
	orig := binary(t, "testplugin")
	path := filepath.Join(t.TempDir(), "testplugin")
	b, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := pluginConfig(t, "tampered", "testplugin")
	cfg.Path, cfg.SHA256 = path, checksum(t, path)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("tampered")); err != nil {
		t.Fatal(err)
	}
	f.Close()

	err = startError(t, cfg, "a plugin whose checksum does not match was started")
	if !errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		t.Errorf("error does not wrap go-plugin's checksum error: %v", err)
	}
	for _, want := range []string{`"tampered"`, "refusing to start", path, checksum(t, path), cfg.SHA256} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if pids := processesOf(path); len(pids) > 0 {
		t.Errorf("processes of the refused binary are running: %v", pids)
	}
}

func TestStartFailureShowsPluginOutput(t *testing.T) {
	cfg := pluginConfig(t, "broken", "testplugin", "-fail-start", "config key signing.secret is missing")
	err := startError(t, cfg, "start succeeded")
	for _, want := range []string{`plugin "broken"`, "config key signing.secret is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestSlowPluginTimesOut(t *testing.T) {
	for _, policy := range []host.FailurePolicy{host.FailClosed, host.FailOpen} {
		t.Run(string(policy), func(t *testing.T) {
			const delay = 5 * time.Second
			cfg := pluginConfig(t, "slow", "testplugin", "-delay", delay.String())
			cfg.Timeout = control.Duration(100 * time.Millisecond)
			cfg.FailurePolicy = policy
			h := startHost(t, cfg)
			p := mustPlugin(t, h, "slow")
			up := &echo{}
			srv := chainServer(t, p, up)

			start := time.Now()
			r := get(t, srv.URL+"/", nil)
			if elapsed := time.Since(start); elapsed >= delay {
				t.Fatalf("the request waited for the slow plugin (%s)", elapsed)
			}
			switch policy {
			case host.FailClosed:
				if r.status != http.StatusServiceUnavailable || up.count() != 0 {
					t.Fatalf("fail-closed: status %d, upstream calls %d; want 503, 0", r.status, up.count())
				}
			case host.FailOpen:
				if r.status != http.StatusOK || r.echo.Header.Get("X-Plugin-Pid") != "" || up.count() != 1 {
					t.Fatalf("fail-open: status %d, plugin header %q, upstream calls %d; want 200 without the plugin",
						r.status, r.echo.Header.Get("X-Plugin-Pid"), up.count())
				}
			}
			if s := p.Stats(); s.TimedOut != 1 || s.Restarts != 0 {
				t.Fatalf("stats %+v: want one timeout and no restart (a slow plugin is not a dead one)", s)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}})
			var callErr *host.CallError
			if !errors.Is(err, host.ErrTimeout) || !errors.As(err, &callErr) || callErr.Plugin != "slow" {
				t.Fatalf("want a CallError wrapping ErrTimeout, got %v", err)
			}
		})
	}
}

func TestHungPluginIsRestarted(t *testing.T) {
	cfg := pluginConfig(t, "hung", "testplugin")
	cfg.HealthInterval = control.Duration(100 * time.Millisecond)
	cfg.HealthTimeout = control.Duration(300 * time.Millisecond)
	h := startHost(t, cfg)
	p := mustPlugin(t, h, "hung")
	oldPID := p.Stats().PID
	if err := syscall.Kill(oldPID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the hung plugin to be replaced", func() bool {
		s := p.Stats()
		return s.Restarts == 1 && s.PID != 0 && s.PID != oldPID
	}, poll.Within(20*time.Second))
	poll.Until(t, "the hung process to be gone", func() bool { return processGone(oldPID) }, poll.Within(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}})
	if err != nil || res.Header.Set.Get("X-Plugin-Pid") != strconv.Itoa(p.Stats().PID) {
		t.Fatalf("after the restart: %+v, %v", res, err)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	cfg := pluginConfig(t, "child", "testplugin", "-child")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := host.Start(ctx, []host.Config{cfg}, host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPlugin(t, h, "child")
	pid := p.Stats().PID
	res, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}})
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	childPID, err := strconv.Atoi(res.Header.Set.Get("X-Child-Pid"))
	if err != nil || processGone(childPID) || processGone(pid) {
		h.Close()
		t.Fatalf("plugin %d or its child %q not running before Close", pid, res.Header.Set.Get("X-Child-Pid"))
	}
	// The child, started by the plugin's main before Serve, got none of
	// the calls' pipes: the SDK made them close-on-exec first.
	channel := channelPipesOf(t, pid)
	for _, pipe := range channel {
		if len(pipesOf(t, childPID)[pipe]) > 0 {
			h.Close()
			t.Fatalf("the plugin's child holds %s, one of the calls' pipes", pipe)
		}
	}

	h.Close()
	// Close reaps the plugin itself, so its /proc entry is gone at once.
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); !os.IsNotExist(err) {
		t.Errorf("plugin process %d still exists after Close", pid)
	}
	poll.Until(t, "the plugin's own child to be gone", func() bool { return processGone(childPID) }, poll.Within(5*time.Second))
	if _, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}}); !errors.Is(err, host.ErrUnavailable) {
		t.Errorf("a call after Close: want ErrUnavailable, got %v", err)
	}
}

func TestHostCrashLeavesNoProcess(t *testing.T) {
	cfg := pluginConfig(t, "orphan", "testplugin")
	cmd, pid := startHelperHost(t, cfg)
	if processGone(pid) {
		t.Fatalf("plugin %d not running", pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	poll.Until(t, "the plugin of the killed host to be gone", func() bool { return processGone(pid) }, poll.Within(5*time.Second))
}

func TestPluginEnvironmentIsIsolated(t *testing.T) {
	t.Setenv("MESHBRIDGE_TEST_HOST_SECRET", "must-not-leak")
	cfg := pluginConfig(t, "env", "testplugin", "-echo-env", "MESHBRIDGE_TEST_HOST_SECRET,GIVEN,PATH")
	cfg.Env = map[string]string{"GIVEN": "configured"}
	p := mustPlugin(t, startHost(t, cfg), "env")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{}})
	if err != nil {
		t.Fatal(err)
	}
	set := res.Header.Set
	if set.Get("X-Env-Meshbridge_test_host_secret") != "" || set.Get("X-Env-Given") != "configured" || set.Get("X-Env-Path") != os.Getenv("PATH") {
		t.Fatalf("plugin environment: secret %q, GIVEN %q, PATH %q", set.Get("X-Env-Meshbridge_test_host_secret"), set.Get("X-Env-Given"), set.Get("X-Env-Path"))
	}
}

func TestPluginLogsReachHostLog(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := startHostWith(t, host.Options{Logger: logger}, pluginConfig(t, "chatty", "testplugin"))
	pid := mustPlugin(t, h, "chatty").Stats().PID
	poll.Until(t, "the plugin's log line in the host log", func() bool {
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, `"msg":"test plugin ready"`) && strings.Contains(line, `"plugin":"chatty"`) &&
				strings.Contains(line, `"level":"INFO"`) && strings.Contains(line, `"pid":`+strconv.Itoa(pid)) {
				return true
			}
		}
		return false
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestStoppedPluginDoesNotHoldCallers stops the plugin process (SIGSTOP)
// and sends more than the stream's flow-control window can hold: every call
// must still end at its own timeout, long before the health check (set far
// away here) would replace the plugin.
func TestStoppedPluginDoesNotHoldCallers(t *testing.T) {
	cfg := pluginConfig(t, "stopped", "testplugin")
	cfg.Timeout = control.Duration(200 * time.Millisecond)
	cfg.HealthInterval = control.Duration(time.Minute)
	p := mustPlugin(t, startHost(t, cfg), "stopped")
	pid := p.Stats().PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := procstate.WaitStopped(pid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// Let it go before Close, which would otherwise wait for it to die.
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })

	big := strings.Repeat("x", 32<<10) // 32 KiB a call: the 1 MiB window fills after about 32
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	start := time.Now()
	for range 64 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := p.HandleRequest(ctx, &sdk.Request{Header: http.Header{"X-Big": {big}}})
			errs <- err
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatalf("calls to a stopped plugin still waiting after %s; each should end at its 200ms timeout", time.Since(start))
	}
	close(errs)
	for err := range errs {
		if !errors.Is(err, host.ErrTimeout) && !errors.Is(err, host.ErrUnavailable) {
			t.Errorf("want a timeout or unavailable error, got %v", err)
		}
	}
}

// A binary swapped on disk after the host opened it and before the start
// cannot run: the checksum is checked on, and the process started from,
// the file the host opened.
func TestBinarySwappedBeforeStartRunsTheCheckedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "testplugin")
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(binary(t, "testplugin"), path)
	cfg := pluginConfig(t, "pinned", "testplugin", "-transform", "tag")
	cfg.Path, cfg.SHA256 = path, checksum(t, path)
	swapped := false
	defer host.SetTestHookAfterPin(func(p string) {
		if p != path || swapped {
			return
		}
		swapped = true
		other := filepath.Join(dir, "other")
		copyFile(binary(t, "header-injector"), other)
		if err := os.Rename(other, path); err != nil {
			t.Error(err)
		}
	})()

	h := startHost(t, cfg)
	if !swapped {
		t.Fatal("the hook never ran")
	}
	if info := mustPlugin(t, h, "pinned").Info(); !info.Instances {
		t.Errorf("the running plugin is not the checked testplugin (no instance transformer): %+v", info)
	}
	// The checked file was replaced on disk, so the process runs a deleted file.
	if pids := processesOf(path + " (deleted)"); len(pids) != 1 {
		t.Errorf("processes running the checked (now replaced) binary: %v; want one", pids)
	}
}

// TestCallsTakeThePluginsChannel: a started plugin's calls go on its
// channel (the host logs which way calls go): two pipes, which the plugin
// process holds as descriptors 3 and 4 and the host holds only the other
// ends of. When the plugin is killed and restarted, and when the host
// stops it, the host lets go of the old pipes.
func TestCallsTakeThePluginsChannel(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := startHostWith(t, host.Options{Logger: logger}, pluginConfig(t, "inject", "header-injector", "-set", "X-Team: payments"))
	p := mustPlugin(t, h, "inject")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call := func() {
		t.Helper()
		for range 3 {
			res, err := p.HandleRequest(ctx, &sdk.Request{Method: "GET", Path: "/", Header: http.Header{}})
			if err != nil || res.Header.Set.Get("X-Team") != "payments" {
				t.Fatalf("call: %+v, %v", res, err)
			}
		}
	}
	call()
	log := buf.String()
	if !strings.Contains(log, `"msg":"plugin calls on the plugin's channel"`) || strings.Contains(log, "could not be opened") {
		t.Fatalf("the calls did not go on the plugin's channel; host log:\n%s", log)
	}
	first := channelPipesOf(t, p.Stats().PID)

	oldPID := p.Stats().PID
	if err := syscall.Kill(oldPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "the killed plugin to be replaced", func() bool {
		s := p.Stats()
		return s.Restarts == 1 && s.PID != 0 && s.PID != oldPID
	}, poll.Within(20*time.Second))
	call()
	second := channelPipesOf(t, p.Stats().PID)
	for _, pipe := range first {
		if len(pipesOf(t, os.Getpid())[pipe]) > 0 {
			t.Errorf("the host still holds %s of the killed plugin", pipe)
		}
	}
	h.Close()
	for _, pipe := range second {
		if len(pipesOf(t, os.Getpid())[pipe]) > 0 {
			t.Errorf("the host still holds %s after stopping the plugin", pipe)
		}
	}
}

// channelPipesOf is the plugin process's descriptors 3 and 4, which must
// be the calls' read end and the answers' write end of two pipes whose
// other ends the host (this process) holds once each, and of which it
// holds no copy of the plugin's ends.
func channelPipesOf(t *testing.T, pid int) []string {
	t.Helper()
	var pipes []string
	hosts := pipesOf(t, os.Getpid())
	for fd, mode := range map[int]int{3: syscall.O_RDONLY, 4: syscall.O_WRONLY} {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil {
			t.Skipf("no /proc to see the plugin's descriptors: %v", err)
		}
		if !strings.HasPrefix(l, "pipe:[") || accessMode(t, pid, fd) != mode {
			t.Fatalf("the plugin's descriptor %d is %s, mode %d; want a pipe's end, mode %d", fd, l, accessMode(t, pid, fd), mode)
		}
		ends := hosts[l]
		if len(ends) != 1 || accessMode(t, os.Getpid(), ends[0]) == mode {
			t.Fatalf("the host holds %s as descriptors %v; want the other end once", l, ends)
		}
		pipes = append(pipes, l)
	}
	return pipes
}

// accessMode is O_RDONLY or O_WRONLY (or O_RDWR) for descriptor fd of
// process pid, from /proc/<pid>/fdinfo.
func accessMode(t *testing.T, pid, fd int) int {
	t.Helper()
	info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(info)) {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(flags) & syscall.O_ACCMODE
		}
	}
	t.Fatalf("no flags in /proc/%d/fdinfo/%d", pid, fd)
	return 0
}

// pipesOf is the pipes ("pipe:[inode]") process pid holds, and as which
// descriptors.
func pipesOf(t *testing.T, pid int) map[string][]int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Skipf("no /proc to see the descriptors: %v", err)
	}
	pipes := map[string][]int{}
	for _, fd := range fds {
		n, err := strconv.Atoi(fd.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, n)); err == nil && strings.HasPrefix(l, "pipe:[") {
			pipes[l] = append(pipes[l], n)
		}
	}
	return pipes
}
