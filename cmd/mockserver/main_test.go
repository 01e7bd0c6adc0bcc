package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/internal/app"
	"github.com/meshbridge/meshbridge/internal/app/apptest"
	"github.com/meshbridge/meshbridge/internal/config"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
)

// TestMain fails the run if a plugin or mockserver process outlives its test.
func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return app.Run(ctx, command, args, stdout, stderr)
}

func TestHelpAndVersion(t *testing.T) {
	apptest.HelpAndVersion(t, command, "mockserver", "-register", `(default ":8081")`)
}

// Bad configurations, a bad stub set among them, end the command before
// anything listens, naming the key, or the file and line.
func TestBadConfigIsRejectedWithTheKeyNamed(t *testing.T) { apptest.RejectsBadConfig(t, command) }

func TestShippedConfigLoadsAndDocumentsTheDefaults(t *testing.T) {
	cfg := DefaultConfig()
	if err := config.Load("../../configs/mockserver.yaml", cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Service = "payments" // the one key without a default
	want.Register.Metadata = map[string]string{}
	want.Register.Registries = []string{}
	want.Plugins, want.Middleware = cfg.Plugins, []string{}
	want.OpenAPI.Files = []string{}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("the shipped configuration differs from the defaults it documents:\n%+v\n%+v", cfg, want)
	}
}

// --register replaces the file's list once, then adds; commas split.
func TestRegisterFlagRepeats(t *testing.T) {
	list := []string{"mesh"}
	f := &repeatFlag{list: &list}
	for _, v := range []string{"eureka", "consul, nacos"} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(list, ","); got != "eureka,consul,nacos" {
		t.Fatalf("--register gave %s", got)
	}
}

// The command serves the stubs and the admin API on one listener when
// admin.listen is empty, and stops cleanly when its context ends.
func TestServesStubsAndAdminUntilStopped(t *testing.T) {
	addr := loopback.Addr(t)
	stop := apptest.Serve(t, command, "--stubs", "testdata/stubs", "--listen", addr, "--admin-listen=", "--log-level", "error")
	base := "http://" + addr
	poll.UntilNil(t, "mockserver answering", poll.GetOK(base+"/__admin/health"), poll.Within(5*time.Second))
	resp, err := http.Get(base + "/payments/42")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"state":"paid","id":"42"}` {
		t.Fatalf("GET /payments/42: %d %s", resp.StatusCode, body)
	}
	// A path as sent reaches the stubs, not a redirect to its clean form.
	if code, body := get(t, base+"//payments/42"); code != http.StatusNotFound || !strings.Contains(body, `"url":"//payments/42"`) {
		t.Fatalf("GET //payments/42: %d %s; want the stubs' 404 for that path", code, body)
	}
	stop()
}
