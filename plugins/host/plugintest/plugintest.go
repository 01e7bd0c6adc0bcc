// Package plugintest builds plugin binaries for the host's tests and checks
// that no plugin process outlives them. The binaries are the example
// plugins (plugins/examples/<name>) and the host's test plugin
// ("testplugin", plugins/host/testdata/testplugin), built with go build once
// per test binary.
package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/plugins/host"
)

// binDir holds the binaries of one test binary's run.
var binDir string

// Main runs the tests with a fresh directory for plugin binaries, then fails
// the run if a plugin process is still alive (after a grace of 5 s) and
// removes the directory. Call it from TestMain: os.Exit(plugintest.Main(m)).
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "meshbridge-plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir = dir
	code := m.Run()
	if leaked := leaked(5 * time.Second); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "plugin processes outlived their tests: %v\n", leaked)
		code = 1
	}
	_ = os.RemoveAll(dir) // a leftover temp dir is not worth failing the run
	return code
}

var builds sync.Map // binary name -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds an example plugin or "testplugin" and returns its path.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if binDir == "" {
		t.Fatal("plugintest: call plugintest.Main from TestMain")
	}
	v, _ := builds.LoadOrStore(name, &build{})
	b := v.(*build)
	b.once.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		hostDir := filepath.Join(filepath.Dir(self), "..")
		dir, pkg := filepath.Join(hostDir, "..", "examples"), "./"+name
		if name == "testplugin" {
			dir, pkg = hostDir, "./testdata/testplugin"
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

// Checksum is the hex sha256 of the file at path.
func Checksum(t testing.TB, path string) string {
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

// Config is the configuration of a built plugin with test-friendly timings:
// a generous call timeout (the machine is shared) and quick restarts.
func Config(t testing.TB, name, bin string, args ...string) host.Config {
	t.Helper()
	path := Binary(t, bin)
	return host.Config{
		Name:            name,
		Path:            path,
		Args:            args,
		SHA256:          Checksum(t, path),
		Timeout:         control.Duration(5 * time.Second),
		RestartBackoff:  control.Duration(20 * time.Millisecond),
		RestartMaxDelay: control.Duration(time.Second),
		HealthInterval:  control.Duration(time.Second),
	}
}

// ProcessGone reports whether pid has exited: no /proc entry, or a zombie
// waiting for a parent that is not ours to make reap it.
func ProcessGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// ProcessesOf lists the running processes whose executable is path.
func ProcessesOf(path string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == path && !ProcessGone(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// leaked waits up to within for every process running a built binary to be
// gone, and returns those that are not.
func leaked(within time.Duration) map[string][]int {
	deadline := time.Now().Add(within)
	for {
		out := map[string][]int{}
		entries, _ := os.ReadDir(binDir)
		for _, e := range entries {
			path := filepath.Join(binDir, e.Name())
			if pids := ProcessesOf(path); len(pids) > 0 {
				out[path] = pids
			}
		}
		if len(out) == 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}
