package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/adapters/frontend"
	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/internal/serve"
	"github.com/meshbridge/meshbridge/registry"
)

// A fourth protocol that exists only in this file: registered here, with
// no other change, it shows up in registry-adapter's configuration file
// (its own section, strict), its flags and --help, and is mounted over
// the registry in the run group. That is all adding a front-end takes
// (and one import line in adapters/install).
func init() {
	frontend.Register(frontend.Kind{
		Name: "testproto", NewConfig: func() frontend.Config { return &testProtoConfig{Greeting: "hello"} },
		Mount: func(fc frontend.Config, env frontend.Env) error {
			c := fc.(*testProtoConfig)
			if c.Listen == "" {
				return nil // off unless a test turns it on
			}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				list, _, err := env.Registry.List(r.Context(), registry.Filter{})
				if err != nil {
					http.Error(w, err.Error(), http.StatusInternalServerError)
					return
				}
				fmt.Fprintf(w, "%s: %d instances", c.Greeting, len(list))
			})
			return serve.Join(env.Group, serve.Listener{Name: "testproto", Addr: c.Listen, Handler: h}, env.Logger, env.Timeouts, env.Limits)
		},
	})
}

type testProtoConfig struct {
	Listen   string `yaml:"listen"`
	Greeting string `yaml:"greeting"`
}

func (c *testProtoConfig) Validate() error {
	var errs config.Errors
	errs.Add(c.Listen != "" && c.Greeting == "", "testproto.greeting", "required")
	return errs.Err()
}

func (c *testProtoConfig) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "testproto-listen", c.Listen, "test protocol `address` (testproto.listen; empty disables)")
}

func TestAFrontEndRegisteredElsewhereIsConfiguredAndMounted(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != app.ExitOK || !strings.Contains(errOut.String(), "-testproto-listen address") {
		t.Fatalf("--help: %d, no -testproto-listen in\n%s", code, errOut.String())
	}
	for _, bad := range []struct{ yaml, want string }{
		{"testproto:\n  greting: hi\n", `line 2: unknown key "greting"`},
		{"testproto:\n  listen: 127.0.0.1:1\n  greeting: \"\"\n", "testproto.greeting: required"},
	} {
		errOut.Reset()
		code := run(context.Background(), []string{"--config", writeFile(t, bad.yaml), "--data-dir", t.TempDir()}, &out, &errOut)
		if code != app.ExitUsage || !strings.Contains(errOut.String(), bad.want) {
			t.Fatalf("%q: exit %d, stderr %q; want %q", bad.yaml, code, errOut.String(), bad.want)
		}
	}

	// The file sets the greeting, the flag the address; the front-end
	// serves the registry the control API writes to.
	addr, controlAddr := loopback.Addr(t), loopback.Addr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	errOut.Reset()
	go func() {
		done <- run(ctx, []string{"--config", writeFile(t, "testproto:\n  greeting: hi\n"), "--testproto-listen", addr,
			"--data-dir", t.TempDir(), "--control-listen", controlAddr, "--eureka-listen=", "--consul-listen=", "--nacos-listen="}, io.Discard, &errOut)
	}()
	get := func() string {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	poll.Until(t, "the test front-end answering", func() bool { return get() == "hi: 0 instances" }, poll.Within(20*time.Second))
	client, err := control.NewClient("http://" + controlAddr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Register(ctx, &registry.Instance{ID: "o-1", Service: "orders", Host: "10.0.0.7", Port: 8080}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != "hi: 1 instances" {
		t.Fatalf("the front-end answered %q, want the registered instance counted", got)
	}
	cancel()
	select {
	case code := <-done:
		if code != app.ExitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("registry-adapter did not stop")
	}
	if !strings.Contains(errOut.String(), "listener=testproto") {
		t.Fatalf("the test front-end's listener is not in the log:\n%s", errOut.String())
	}
}

// --help prints every flag's real default, the front-ends' too: it used to
// print "\x00", the value that stood for "not given".
func TestHelpShowsTheRealDefaults(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != app.ExitOK {
		t.Fatalf("--help: exit %d", code)
	}
	help := errOut.String()
	for _, want := range []string{`(default ":8761")`, `(default ":8500")`, `(default ":8848")`, `(default ":8700")`, `(default "./data")`, `(default "embedded")`, `(default 127.0.0.1:2379)`} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %s", want)
		}
	}
	if strings.Contains(help, `\x00`) {
		t.Errorf("--help prints a default that is none:\n%s", help)
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "adapter.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The control token is read where every binary reads it: control.token,
// else MESHBRIDGE_CONTROL_TOKEN, else control.tokenFile; an unreadable
// file is a configuration error.
func TestControlTokenFromAFile(t *testing.T) {
	t.Setenv("MESHBRIDGE_CONTROL_TOKEN", "")
	var out, errOut bytes.Buffer
	missing := filepath.Join(t.TempDir(), "absent")
	if code := run(context.Background(), []string{"--config", writeFile(t, "control:\n  tokenFile: "+missing+"\n"), "--data-dir", t.TempDir()}, &out, &errOut); code != app.ExitUsage || !strings.Contains(errOut.String(), "control.tokenFile") {
		t.Fatalf("a missing token file: exit %d, stderr %q", code, errOut.String())
	}

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	controlAddr := loopback.Addr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--config", writeFile(t, "control:\n  tokenFile: "+tokenFile+"\n"), "--data-dir", t.TempDir(),
			"--control-listen", controlAddr, "--eureka-listen=", "--consul-listen=", "--nacos-listen="}, io.Discard, io.Discard)
	}()
	poll.UntilNil(t, "the control API answering", poll.GetOK("http://"+controlAddr+"/readyz"), poll.Within(20*time.Second))
	in := &registry.Instance{ID: "o-1", Service: "orders", Host: "10.0.0.7", Port: 8080}
	anonymous, _ := control.NewClient("http://"+controlAddr, control.WithRetries(0, 0))
	if _, err := anonymous.Register(ctx, in); err == nil {
		t.Fatal("a write without the token was accepted")
	}
	withToken, _ := control.NewClient("http://"+controlAddr, control.WithToken("s3cret"))
	if _, err := withToken.Register(ctx, in); err != nil {
		t.Fatalf("a write with the file's token: %v", err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("registry-adapter did not stop")
	}
}
