// Package meshtest runs a mesh control plane in-process on loopback for
// registrysync's tests: the embedded store and the control API over it,
// the parts registry-adapter serves the mesh with. A plane can be
// stopped, as a registry that went away, and started again on the same
// address with the same data.
package meshtest

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/meshbridge/meshbridge/control"
	"github.com/meshbridge/meshbridge/internal/loopback"
	"github.com/meshbridge/meshbridge/registry/embedded"
)

// Options configure a plane.
type Options struct {
	// ExpiryInterval turns lease expiry on, checked this often, from the
	// start (no startup grace, no self-preservation); zero leaves
	// instances until they are deregistered.
	ExpiryInterval time.Duration
	// Token, when set, is required on writes.
	Token string
}

// Plane is a running control plane.
type Plane struct {
	t    testing.TB
	opts Options
	dir  string
	// Addr is the plane's address and URL its control API's base URL,
	// both kept across Stop and Start.
	Addr, URL string
	// Client talks to the control API (with the token, no retries).
	Client *control.Client

	mu    sync.Mutex
	store *embedded.Store
	srv   *http.Server
	done  chan struct{}
}

// Start runs a plane until the test ends.
func Start(t testing.TB, opts Options) *Plane {
	t.Helper()
	p := &Plane{t: t, opts: opts, dir: t.TempDir(), Addr: loopback.Addr(t)}
	p.URL = "http://" + p.Addr
	c, err := control.NewClient(p.URL, control.WithToken(opts.Token), control.WithRetries(0, 0),
		control.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	p.Client = c
	p.Restart()
	t.Cleanup(p.Stop)
	return p
}

// Store is the plane's store while it runs.
func (p *Plane) Store() *embedded.Store {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.store
}

// Restart starts a stopped plane again on its address, with its data.
func (p *Plane) Restart() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv != nil {
		return
	}
	expiry := embedded.ExpiryOptions{Disabled: true}
	if p.opts.ExpiryInterval > 0 {
		expiry = embedded.ExpiryOptions{Interval: p.opts.ExpiryInterval, StartupGrace: time.Nanosecond, SelfPreservationThreshold: -1}
	}
	quiet := slog.New(slog.DiscardHandler)
	st, err := embedded.Open(embedded.Options{Dir: p.dir, History: 1 << 16, Expiry: expiry, Logger: quiet})
	if err != nil {
		p.t.Fatal(err)
	}
	var ln net.Listener
	for attempt := 0; ; attempt++ { // the old listener's port may take a moment to be free
		if ln, err = net.Listen("tcp", p.Addr); err == nil || attempt == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		st.Close()
		p.t.Fatal(err)
	}
	srv := &http.Server{Handler: control.NewServer(st, control.ServerOptions{Token: p.opts.Token, Logger: quiet}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			p.t.Errorf("control plane: %v", err)
		}
	}()
	p.store, p.srv, p.done = st, srv, done
}

// Stop stops the plane as a registry that went away: connections are
// cut, nothing answers on its address, its data stays for Restart.
func (p *Plane) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.srv == nil {
		return
	}
	_ = p.srv.Close() // cut, not drained: a registry that went away
	<-p.done
	if err := p.store.Close(); err != nil {
		p.t.Errorf("closing the store: %v", err)
	}
	p.srv, p.store = nil, nil
}

// Ctx is a context for one call of a test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
