package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/meshbridge/meshbridge/internal/app/apptest"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/internal/poll"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
)

// An HTTP handler plugin named under middleware: stands in front of the
// stubs: the request header it sets is what the stub needs, and the
// response header it sets reaches the caller.
func TestMiddlewarePluginInFrontOfTheStubs(t *testing.T) {
	dir := t.TempDir()
	stubs := filepath.Join(dir, "team.yaml")
	if err := os.WriteFile(stubs, []byte("request: {urlPath: /pay, headers: {X-Team: {equalTo: payments}}}\nresponse: {body: paid}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := loopback.Addr(t)
	cfg, err := yaml.Marshal(map[string]any{
		"stubs": []string{stubs}, "listen": addr, "admin": map[string]string{"listen": ""},
		"plugins":    []host.Config{plugintest.Config(t, "team", "header-injector", "-set", "X-Team: payments", "-response-set", "X-Served-By: meshbridge")},
		"middleware": []string{"team"},
		"log":        map[string]string{"level": "error"},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mockserver.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	apptest.Serve(t, command, "--config", path)
	poll.UntilNil(t, "mockserver answering", poll.GetOK("http://"+addr+"/__admin/health"), poll.Within(20*time.Second))
	resp, err := http.Get("http://" + addr + "/pay")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "paid" || resp.Header.Get("X-Served-By") != "meshbridge" {
		t.Fatalf("%d %q %v: want the stub that needs the plugin's header, and the plugin's response header", resp.StatusCode, body, resp.Header)
	}
}
