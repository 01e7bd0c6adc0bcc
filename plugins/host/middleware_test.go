package host_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/plugins/host"
)

func TestMiddlewareBody(t *testing.T) {
	h := startHost(t, pluginConfig(t, "body", "testplugin", "-body-limit", "8"))
	srv := chainServer(t, mustPlugin(t, h, "body"), &echo{})
	tests := []struct {
		name      string
		body      string
		seen      string
		truncated string
	}{
		{"longer than the limit", "hello world, this is long", "hello wo", "true"},
		{"exactly the limit", "12345678", "12345678", "false"},
		{"shorter", "hi", "hi", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/upload", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			r := do(t, req)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if r.echo.Body != tt.body {
				t.Errorf("upstream got body %q, want the whole %q", r.echo.Body, tt.body)
			}
			if got := r.echo.Header.Get("X-Body-Seen"); got != tt.seen {
				t.Errorf("plugin saw %q, want %q", got, tt.seen)
			}
			if got := r.echo.Header.Get("X-Body-Truncated"); got != tt.truncated {
				t.Errorf("truncated = %q, want %q", got, tt.truncated)
			}
		})
	}
}

func TestMiddlewareHeadersOnlyByDefault(t *testing.T) {
	h := startHost(t, pluginConfig(t, "headers", "testplugin"))
	srv := chainServer(t, mustPlugin(t, h, "headers"), &echo{})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("a body"))
	if err != nil {
		t.Fatal(err)
	}
	r := do(t, req)
	if r.status != http.StatusOK || r.echo.Body != "a body" || r.echo.Header.Get("X-Plugin-Pid") == "" {
		t.Fatalf("status %d, body %q, plugin header %q", r.status, r.echo.Body, r.echo.Header.Get("X-Plugin-Pid"))
	}
	if _, saw := r.echo.Header["X-Body-Seen"]; saw {
		t.Fatal("a headers-only plugin was sent the body")
	}
}

func TestMiddlewareDirectResponse(t *testing.T) {
	h := startHost(t, pluginConfig(t, "deny", "testplugin", "-deny-path", "/admin"))
	up := &echo{}
	srv := chainServer(t, mustPlugin(t, h, "deny"), up)
	r := get(t, srv.URL+"/admin", nil)
	if r.status != http.StatusTeapot || r.header.Get("X-Denied-By") != "testplugin" || r.body != "denied\n" {
		t.Fatalf("got %d %v %q", r.status, r.header, r.body)
	}
	if up.count() != 0 {
		t.Fatal("a directly answered request reached the upstream")
	}
	if r := get(t, srv.URL+"/public", nil); r.status != http.StatusOK || up.count() != 1 {
		t.Fatalf("other paths: status %d, upstream calls %d", r.status, up.count())
	}
}

func TestMiddlewareResponsePhase(t *testing.T) {
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Upstream", "yes")
		http.NotFound(w, r)
	})
	silent := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

	h := startHost(t,
		pluginConfig(t, "resp", "testplugin", "-response"),
		withPolicy(pluginConfig(t, "resp-closed", "testplugin", "-response-fail"), host.FailClosed),
		withPolicy(pluginConfig(t, "resp-open", "testplugin", "-response-fail"), host.FailOpen),
	)

	t.Run("sees status and state", func(t *testing.T) {
		r := get(t, chainServer(t, mustPlugin(t, h, "resp"), notFound).URL+"/missing", nil)
		if r.status != http.StatusNotFound || r.header.Get("X-Response-Phase") != "status=404 state=/missing" || r.header.Get("X-Upstream") != "yes" {
			t.Fatalf("got %d %v", r.status, r.header)
		}
	})
	t.Run("runs when the handler writes nothing", func(t *testing.T) {
		r := get(t, chainServer(t, mustPlugin(t, h, "resp"), silent).URL+"/quiet", nil)
		if r.status != http.StatusOK || r.header.Get("X-Response-Phase") != "status=200 state=/quiet" {
			t.Fatalf("got %d %v", r.status, r.header)
		}
	})
	t.Run("fail-closed answers 503 instead", func(t *testing.T) {
		up := &echo{}
		r := get(t, chainServer(t, mustPlugin(t, h, "resp-closed"), up).URL+"/", nil)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"code":"unavailable"`) || strings.Contains(r.body, "header") {
			t.Fatalf("got %d %q", r.status, r.body)
		}
		if up.count() != 1 {
			t.Fatalf("upstream calls %d, want 1 (the response phase runs after it)", up.count())
		}
	})
	t.Run("fail-open passes the response", func(t *testing.T) {
		r := get(t, chainServer(t, mustPlugin(t, h, "resp-open"), &echo{}).URL+"/", nil)
		if r.status != http.StatusOK || r.echo.Header.Get("X-Plugin-Pid") == "" || r.header.Get("X-Response-Phase") != "" {
			t.Fatalf("got %d %v", r.status, r.header)
		}
	})
}

func withPolicy(c host.Config, p host.FailurePolicy) host.Config {
	c.FailurePolicy = p
	return c
}

func TestKindMismatch(t *testing.T) {
	h := startHost(t, pluginConfig(t, "tagger", "metadata-tagger", "-require", "version"), pluginConfig(t, "http", "testplugin"))
	if _, err := host.HTTPMiddleware(mustPlugin(t, h, "tagger"), &echo{}); err == nil || !strings.Contains(err.Error(), "not an HTTP handler") {
		t.Errorf("HTTPMiddleware on a transformer: %v", err)
	}
	if _, err := host.TransformingStore(openStore(t), mustPlugin(t, h, "http")); err == nil || !strings.Contains(err.Error(), "not an instance transformer") {
		t.Errorf("TransformingStore with an HTTP plugin: %v", err)
	}
}

func TestMiddlewareClientGone(t *testing.T) {
	cfg := pluginConfig(t, "slow", "testplugin", "-delay", "2s")
	h := startHost(t, cfg)
	p := mustPlugin(t, h, "slow")
	up := &echo{}
	mw, err := host.HTTPMiddleware(p, up)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://svc/", nil)
	mw.ServeHTTP(discardWriter{}, req)
	if up.count() != 0 {
		t.Fatal("a request whose client left went upstream")
	}
	if s := p.Stats(); s.TimedOut+s.Failed+s.Unavailable != 0 {
		t.Fatalf("a call abandoned by the client counted against the plugin: %+v", s)
	}
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

func TestSelectAndTransformers(t *testing.T) {
	h := startHost(t, pluginConfig(t, "http", "testplugin"), pluginConfig(t, "tagger", "metadata-tagger", "-set", "a=b"),
		pluginConfig(t, "both", "testplugin", "-transform", "tag"))
	var names []string
	for _, p := range h.Transformers() {
		names = append(names, p.Name())
	}
	if strings.Join(names, ",") != "tagger,both" {
		t.Errorf("Transformers() = %v", names)
	}
	if ps, err := h.Select("both", "http"); err != nil || len(ps) != 2 || ps[0].Name() != "both" {
		t.Errorf("Select: %v, %v", ps, err)
	}
	if _, err := h.Select("http", "nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Select of an unknown name: %v", err)
	}
}
