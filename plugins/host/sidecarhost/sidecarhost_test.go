package sidecarhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/plugins/host"
	"github.com/meshbridge/meshbridge/plugins/host/plugintest"
	"github.com/meshbridge/meshbridge/plugins/host/sidecarhost"
	"github.com/meshbridge/meshbridge/sidecar/chain"
	"github.com/meshbridge/meshbridge/sidecar/handlers/plugin"
)

func TestMain(m *testing.M) { os.Exit(plugintest.Main(m)) }

func startHost(t *testing.T, cfgs ...host.Config) *host.Host {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := host.Start(ctx, cfgs, host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// upstream echoes the request headers and body it got as JSON.
type upstream struct{ calls atomic.Int64 }

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"header": r.Header, "body": string(body)})
}

// transport ends the test chains: it sends the exchange's request to the
// upstream server, as the sidecar's transport handler would to an endpoint.
func transport(srv *httptest.Server) chain.Handler {
	return terminal(func(ex *chain.Exchange) (*http.Response, error) {
		out := ex.OutboundRequest(ex.Context(), strings.TrimPrefix(srv.URL, "http://"))
		out.RequestURI = ""
		return srv.Client().Transport.RoundTrip(out)
	})
}

type terminal func(ex *chain.Exchange) (*http.Response, error)

func (terminal) Name() string { return "transport" }

func (f terminal) Serve(ex *chain.Exchange, _ chain.Next) (*http.Response, error) { return f(ex) }

type echoed struct {
	Header http.Header `json:"header"`
	Body   string      `json:"body"`
}

func serve(t *testing.T, handlers []chain.Handler, req *http.Request, buffer bool) (*http.Response, echoed, error) {
	t.Helper()
	ex := chain.NewExchange(req, chain.Inbound, nil)
	if buffer && !ex.BufferBody(1<<20) {
		t.Fatal("body not buffered")
	}
	resp, err := chain.Compile(handlers, nil)(ex)
	var e echoed
	if err != nil {
		return nil, e, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = json.Unmarshal(b, &e) // direct answers are not echoes; e stays empty
	return resp, e, nil
}

func newRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	r, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPluginsInSidecarChain(t *testing.T) {
	slow := plugintest.Config(t, "slow", "testplugin", "-delay", "3s")
	slow.Timeout = control.Duration(50 * time.Millisecond)
	h := startHost(t,
		plugintest.Config(t, "inject", "header-injector", "-set", "X-Team: payments", "-response-set", "X-Served-By: meshbridge"),
		plugintest.Config(t, "canary", "canary-cookie"),
		plugintest.Config(t, "deny", "testplugin", "-deny-path", "/admin"),
		plugintest.Config(t, "body", "testplugin", "-body-limit", "8"),
		slow,
		plugintest.Config(t, "tagger", "metadata-tagger", "-set", "a=b"),
	)
	up := &upstream{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	sh := sidecarhost.New(h)
	handler := func(names ...string) chain.Handler {
		t.Helper()
		hd, err := sh.Handler(names, chain.Deps{Direction: chain.Inbound})
		if err != nil {
			t.Fatal(err)
		}
		return hd
	}

	t.Run("plugins in order, both phases", func(t *testing.T) {
		req := newRequest(t, http.MethodGet, "http://orders/list", "")
		req.Header.Set("Cookie", "canary=v2")
		resp, e, err := serve(t, []chain.Handler{handler("canary", "inject"), transport(srv)}, req, false)
		if err != nil {
			t.Fatal(err)
		}
		if e.Header.Get("X-Canary") != "v2" || e.Header.Get("X-Team") != "payments" || resp.Header.Get("X-Served-By") != "meshbridge" {
			t.Fatalf("upstream saw %v; response header %v", e.Header, resp.Header)
		}
	})
	t.Run("direct answer ends the chain", func(t *testing.T) {
		before := up.calls.Load()
		resp, _, err := serve(t, []chain.Handler{handler("deny"), transport(srv)}, newRequest(t, http.MethodGet, "http://orders/admin", ""), false)
		if err != nil || resp.StatusCode != http.StatusTeapot || up.calls.Load() != before {
			t.Fatalf("got %v, %v; upstream calls %d", resp, err, up.calls.Load()-before)
		}
	})
	t.Run("buffered body reaches the plugin and the upstream", func(t *testing.T) {
		_, e, err := serve(t, []chain.Handler{handler("body"), transport(srv)}, newRequest(t, http.MethodPost, "http://orders/", "a body longer than eight"), true)
		if err != nil || e.Header.Get("X-Body-Seen") != "a body l" || e.Body != "a body longer than eight" {
			t.Fatalf("plugin saw %q, upstream got %q (%v)", e.Header.Get("X-Body-Seen"), e.Body, err)
		}
	})
	t.Run("fail-closed plugin ends the exchange with 503", func(t *testing.T) {
		_, _, err := serve(t, []chain.Handler{handler("slow"), transport(srv)}, newRequest(t, http.MethodGet, "http://orders/", ""), false)
		var ce *chain.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusServiceUnavailable || ce.Reason != chain.ReasonPlugin || !errors.Is(err, host.ErrTimeout) {
			t.Fatalf("want a 503 plugin error wrapping the timeout, got %v", err)
		}
	})
	t.Run("bad names", func(t *testing.T) {
		if _, err := sh.Handler([]string{"nope"}, chain.Deps{}); err == nil {
			t.Error("an unknown plugin was accepted")
		}
		if _, err := sh.Handler([]string{"tagger"}, chain.Deps{}); err == nil || !strings.Contains(err.Error(), "not an HTTP handler") {
			t.Errorf("a transformer was accepted: %v", err)
		}
	})
}

// current lets each test run install its own host behind plugin.SetHost,
// which may be called once per process.
type current struct {
	h atomic.Pointer[sidecarhost.Host]
}

func (c *current) Handler(names []string, deps chain.Deps) (chain.Handler, error) {
	return c.h.Load().Handler(names, deps)
}

var (
	installed     current
	installedOnce sync.Once
)

func TestRegisteredSlot(t *testing.T) {
	h := startHost(t, plugintest.Config(t, "inject", "header-injector", "-set", "X-Team: payments"))
	installed.h.Store(sidecarhost.New(h))
	installedOnce.Do(func() { plugin.SetHost(&installed) })

	k, ok := chain.Lookup(plugin.Name)
	if !ok {
		t.Fatal("no plugin handler kind")
	}
	cfg := &plugin.Config{Plugins: []string{"inject"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	hd, err := k.New(cfg, chain.Deps{Direction: chain.Outbound})
	if err != nil {
		t.Fatal(err)
	}
	up := &upstream{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	_, e, err := serve(t, []chain.Handler{hd, transport(srv)}, newRequest(t, http.MethodGet, "http://orders/", ""), false)
	if err != nil || e.Header.Get("X-Team") != "payments" {
		t.Fatalf("through the registered slot: %v, %v", e.Header, err)
	}
}
