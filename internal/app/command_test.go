package app

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/logging"
)

// testConfig is a binary's configuration as commands have them.
type testConfig struct {
	Listen    string         `yaml:"listen"`
	Endpoints []string       `yaml:"endpoints"`
	Workers   int            `yaml:"workers"`
	Log       logging.Config `yaml:"log"`
}

func (c *testConfig) Validate() error {
	if c.Workers < 1 {
		return errors.New("workers: must be at least 1")
	}
	return nil
}

// testCommand serves nothing real: its Run reports the configuration it
// got and adds an actor that runs until the group stops.
func testCommand(got **testConfig, run func(ctx context.Context, env *Env) error) Command[testConfig] {
	return Command[testConfig]{
		Name: "testd", Usage: "testd: a test binary.\n\nUsage: testd [flags]\n", Version: "v9",
		ConfigFile: true,
		Defaults: func() *testConfig {
			return &testConfig{Listen: ":8700", Endpoints: []string{"127.0.0.1:2379"}, Workers: 4}
		},
		Flags: func(fs *flag.FlagSet, c *testConfig) {
			fs.StringVar(&c.Listen, "listen", c.Listen, "listen `address`")
			fs.Var(ListFlag{&c.Endpoints}, "endpoints", "comma-separated `endpoints`")
			fs.IntVar(&c.Workers, "workers", c.Workers, "worker `count`")
		},
		Log:          func(c *testConfig) logging.Config { return c.Log },
		DrainTimeout: func(*testConfig) time.Duration { return 50 * time.Millisecond },
		Run: func(ctx context.Context, c *testConfig, env *Env) error {
			*got = c
			if run != nil {
				return run(ctx, env)
			}
			return nil
		},
	}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "testd.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommandLoadsDefaultsThenTheFileThenTheFlags(t *testing.T) {
	file := writeConfig(t, "listen: \":9000\"\nworkers: 8\n")
	tests := []struct {
		name    string
		args    []string
		want    testConfig
		wantErr string
		code    int
	}{
		{"defaults", nil, testConfig{Listen: ":8700", Endpoints: []string{"127.0.0.1:2379"}, Workers: 4}, "", ExitOK},
		{"file over defaults", []string{"--config", file}, testConfig{Listen: ":9000", Endpoints: []string{"127.0.0.1:2379"}, Workers: 8}, "", ExitOK},
		{"flags over the file", []string{"--config", file, "--workers", "2", "--endpoints", "a:1, b:2"},
			testConfig{Listen: ":9000", Endpoints: []string{"a:1", "b:2"}, Workers: 2}, "", ExitOK},
		{"flag before --config", []string{"--listen=", "--config", file}, testConfig{Listen: "", Endpoints: []string{"127.0.0.1:2379"}, Workers: 8}, "", ExitOK},
		{"validation", []string{"--workers", "0"}, testConfig{}, "testd: config: workers: must be at least 1", ExitUsage},
		{"unknown key", []string{"--config", writeConfig(t, "listen: x\nworkrs: 3\n")}, testConfig{}, `line 2: unknown key "workrs"`, ExitUsage},
		{"bad flag value", []string{"--workers", "many"}, testConfig{}, `invalid value "many" for flag -workers`, ExitUsage},
		{"stray argument", []string{"extra"}, testConfig{}, "testd: unexpected arguments: extra", ExitUsage},
		{"bad log level", []string{"--config", writeConfig(t, "log: {level: loud}\n")}, testConfig{}, "testd: config: log.level", ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *testConfig
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), testCommand(&got, nil), tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, stderr.String(), tt.code, tt.wantErr)
			}
			if tt.code != ExitOK {
				if got != nil {
					t.Fatal("Run ran with a bad configuration")
				}
				return
			}
			if got == nil || got.Listen != tt.want.Listen || got.Workers != tt.want.Workers || strings.Join(got.Endpoints, ",") != strings.Join(tt.want.Endpoints, ",") {
				t.Fatalf("config %+v, want %+v", got, tt.want)
			}
		})
	}
}

// --help prints the real defaults, including those of list flags, and
// never the "\x00" that used to stand for "not given"; a file given
// alongside does not change them.
func TestHelpPrintsTheRealDefaults(t *testing.T) {
	var got *testConfig
	var stdout, stderr bytes.Buffer
	file := writeConfig(t, "listen: \":9000\"\n")
	if code := Run(context.Background(), testCommand(&got, nil), []string{"--config", file, "--help"}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("--help: exit %d", code)
	}
	help := stderr.String()
	for _, want := range []string{"testd: a test binary.", `-listen address`, `(default ":8700")`, `(default 127.0.0.1:2379)`, `(default 4)`, "-config file", "-version"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, `\x00`) || strings.Contains(help, "\x00") || strings.Contains(help, ":9000") {
		t.Errorf("--help shows a default that is not one:\n%s", help)
	}
	stdout.Reset()
	if code := Run(context.Background(), testCommand(&got, nil), []string{"--version"}, &stdout, &stderr); code != ExitOK || stdout.String() != "testd v9\n" {
		t.Fatalf("--version: %d %q", code, stdout.String())
	}
}

func TestRunErrorsMapToExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"a failure", errors.New("store: disk full"), ExitFailed, "testd failed"},
		{"a usage error", UsageError(errors.New("control.tokenFile: no such file")), ExitUsage, "testd: control.tokenFile: no such file"},
		{"an exit code alone", &ExitError{Code: 130}, 130, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *testConfig
			var stdout, stderr bytes.Buffer
			var cleaned bool
			cmd := testCommand(&got, func(ctx context.Context, env *Env) error {
				env.Cleanup(func() { cleaned = true })
				return tt.err
			})
			if code := Run(context.Background(), cmd, nil, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", code, stderr.String(), tt.code, tt.stderr)
			}
			if !cleaned {
				t.Fatal("what Run built before failing was not cleaned up")
			}
		})
	}
}

// The command serves until its context ends (a signal), then stops and
// exits 0; an actor that fails ends it with 1; a stop that does not end
// within the drain timeout and its grace ends it with 1 as well.
func TestCommandRunsItsGroupUntilStopped(t *testing.T) {
	defer func(g time.Duration) { drainGrace = g }(drainGrace)
	drainGrace = 100 * time.Millisecond
	tests := []struct {
		name   string
		actor  func(env *Env)
		cancel bool
		code   int
		stderr string
	}{
		{"signal", func(env *Env) { env.Go(func(ctx context.Context) error { <-ctx.Done(); return nil }) }, true, ExitOK, "testd stopped"},
		{"failure", func(env *Env) { env.Go(func(context.Context) error { return errors.New("listener: broken") }) }, false, ExitFailed, "listener: broken"},
		{"stuck", func(env *Env) {
			env.Go(func(ctx context.Context) error { <-ctx.Done(); time.Sleep(5 * time.Second); return nil })
		}, true, ExitFailed, "did not stop in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *testConfig
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cmd := testCommand(&got, func(_ context.Context, env *Env) error { tt.actor(env); return nil })
			done := make(chan int, 1)
			go func() { done <- Run(ctx, cmd, nil, &stdout, &stderr) }()
			if tt.cancel {
				cancel()
			}
			select {
			case code := <-done:
				if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
					t.Fatalf("exit %d, stderr %q; want %d with %q", code, stderr.String(), tt.code, tt.stderr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the command did not return")
			}
		})
	}
}

func TestCommandsDispatch(t *testing.T) {
	var got *testConfig
	sub := testCommand(&got, nil)
	sub.Name, sub.Version, sub.ConfigFile = "tool serve", "", false
	cmds := Commands{Name: "tool", Usage: "tool: subcommands.\n", Version: "v1", Subcommands: []Runner{sub}}
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{nil, ExitUsage, "", "tool: subcommands."},
		{[]string{"version"}, ExitOK, "tool v1\n", ""},
		{[]string{"help"}, ExitOK, "Flags of tool serve:", ""},
		{[]string{"frobnicate"}, ExitUsage, "", `tool: unknown command "frobnicate"`},
		{[]string{"serve", "--workers", "0"}, ExitUsage, "", "tool serve: workers: must be at least 1"},
		{[]string{"serve", "--workers", "3"}, ExitOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), cmds, tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
			}
		})
	}
	if got == nil || got.Workers != 3 {
		t.Fatalf("the subcommand ran with %+v", got)
	}
}
