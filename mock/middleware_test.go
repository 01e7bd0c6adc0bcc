package mock

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
)

func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

// A real plugin in front of the stubs, through the plugin host's
// HTTPMiddleware: the header it sets is what the stub matches on, the
// response header it sets reaches the client, and the journal sees the
// request as the plugin changed it. The admin API is not behind it.
func TestPluginInFrontOfTheStubs(t *testing.T) {
	cfg := plugintest.Config(t, "team", "header-injector", "-set", "X-Team: payments", "-response-set", "X-Served-By: meshbridge")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := host.Start(ctx, []host.Config{cfg}, host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	p, ok := h.Plugin("team")
	if !ok {
		t.Fatal("no plugin")
	}
	ts := start(t, Options{Middleware: []Middleware{func(next http.Handler) (http.Handler, error) { return host.HTTPMiddleware(p, next) }}},
		writeStubs(t, map[string]string{"team.yaml": "request: {urlPath: /pay, headers: {X-Team: {equalTo: payments}}}\nresponse: {body: paid}\n"}))
	status, body, header := call(t, "GET", ts.URL+"/pay", "")
	if status != 200 || body != "paid" || header.Get("X-Served-By") != "meshbridge" {
		t.Fatalf("%d %q %v: want the stub that needs the plugin's header, and the plugin's response header", status, body, header)
	}
	if events := journalEvents(t, ts); len(events) != 1 || events[0].Request.Headers["X-Team"] != "payments" {
		t.Fatalf("journal %+v: want the request as the plugin changed it", events)
	}
	if _, _, header := call(t, "GET", ts.URL+"/__admin/health", ""); header.Get("X-Served-By") != "" {
		t.Fatal("the admin API is behind the plugin")
	}
}

// A middleware that cannot be built fails New, naming its place.
func TestMiddlewareErrorFailsNew(t *testing.T) {
	_, err := New(Options{Middleware: []Middleware{
		func(next http.Handler) (http.Handler, error) { return next, nil },
		func(http.Handler) (http.Handler, error) { return nil, errors.New("not an HTTP plugin") },
	}})
	if err == nil || !strings.Contains(err.Error(), "middleware 1: not an HTTP plugin") {
		t.Fatalf("error %v", err)
	}
}
