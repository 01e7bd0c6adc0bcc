package eureka

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	logging "github.com/op/go-logging"

	"github.com/meshbridge/meshbridge/adapters/adaptertest"
	"github.com/meshbridge/meshbridge/registry"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

func TestMain(m *testing.M) {
	// fargo logs every request at INFO; keep test output to failures.
	logging.SetLevel(logging.CRITICAL, "fargo")
	os.Exit(m.Run())
}

// testEnv is a running adapter over a fresh embedded store.
type testEnv struct {
	t      *testing.T
	store  *embedded.Store
	srv    *Server
	server *adaptertest.Server
	url    string // base URL, e.g. http://127.0.0.1:1234
}

type envOption func(*embedded.Options, *Options)

func withExpiry(e embedded.ExpiryOptions) envOption {
	return func(so *embedded.Options, _ *Options) { so.Expiry = e }
}

func withOptions(fn func(*Options)) envOption {
	return func(_ *embedded.Options, o *Options) { fn(o) }
}

// newEnv starts a store, a Server following it, and an HTTP test server,
// and returns once the view has loaded. Everything stops when the test
// ends.
func newEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	o := Options{Logger: slog.New(slog.DiscardHandler)}
	store := adaptertest.Store(t, func(so *embedded.Options) {
		for _, fn := range opts {
			fn(so, &o)
		}
	})
	srv, err := New(store, o)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	server := adaptertest.Start(t, store, adaptertest.Frontend{
		Handler: srv.Handler(), Run: []func(context.Context) error{srv.Run}, Ready: srv.view.isReady,
	})
	return &testEnv{t: t, store: store, srv: srv, server: server, url: server.URL}
}

// do sends a request and returns status, headers and body.
func (e *testEnv) do(method, path string, body string, headers ...string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	hdr := map[string]string{}
	for i := 0; i+1 < len(headers); i += 2 {
		hdr[headers[i]] = headers[i+1]
	}
	return e.server.Do(e.t, method, path, rd, hdr)
}

// mustList lists the namespace's instances.
func (e *testEnv) mustList() []*registry.Instance {
	e.t.Helper()
	list, _, err := e.store.List(context.Background(), registry.Filter{Namespace: registry.DefaultNamespace})
	if err != nil {
		e.t.Fatalf("list: %v", err)
	}
	return list
}
