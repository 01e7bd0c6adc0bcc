package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
)

// Listener is one named HTTP endpoint of a binary.
type Listener struct {
	Name    string
	Addr    string
	Handler http.Handler
	// Listener, when set, is used instead of listening on Addr (tests).
	Listener net.Listener
}

// Group runs listeners until its context ends, then drains them.
type Group struct {
	log       *slog.Logger
	timeouts  Timeouts
	limits    Limits
	mu        sync.Mutex
	bound     map[string]net.Addr
	listeners []Listener
}

// NewGroup returns an empty group whose listeners all have the timeouts
// and limits given.
func NewGroup(log *slog.Logger, t Timeouts, l Limits) *Group {
	return &Group{log: log, timeouts: t.withDefaults(), limits: l.WithDefaults(), bound: map[string]net.Addr{}}
}

// Add registers a listener; an empty Addr (and no Listener) disables it.
func (g *Group) Add(l Listener) {
	if l.Addr == "" && l.Listener == nil {
		g.log.Info("listener disabled", "listener", l.Name)
		return
	}
	g.listeners = append(g.listeners, l)
}

// Addr returns the bound address of a running listener (after Bind).
func (g *Group) Addr(name string) net.Addr {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.bound[name]
}

// Bind opens every listener's socket, so that port conflicts are reported
// before anything is served. It closes what it opened on error.
func (g *Group) Bind() error {
	for i := range g.listeners {
		l := &g.listeners[i]
		if l.Listener != nil {
			g.setBound(l.Name, l.Listener.Addr())
			continue
		}
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			for j := range i {
				g.listeners[j].Listener.Close()
			}
			return fmt.Errorf("%s listener on %s: %w", l.Name, l.Addr, err)
		}
		l.Listener = ln
		g.setBound(l.Name, ln.Addr())
	}
	return nil
}

func (g *Group) setBound(name string, a net.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.bound[name] = a
}

// Serve binds (if not yet bound) and serves until ctx ends, then shuts every
// server down gracefully: new connections are refused, requests in flight
// finish, and long-polls see their context cancelled so they answer at once.
func (g *Group) Serve(ctx context.Context) error {
	if err := g.Bind(); err != nil {
		return err
	}
	drain := make(chan struct{})
	baseCtx := context.WithValue(context.Background(), drainKey{}, (<-chan struct{})(drain))
	servers := make([]*http.Server, len(g.listeners))
	errc := make(chan error, len(g.listeners))
	for i, l := range g.listeners {
		srv := NewServer(l.Handler, g.timeouts, g.limits)
		srv.BaseContext = func(net.Listener) context.Context { return baseCtx }
		srv.ErrorLog = slog.NewLogLogger(g.log.Handler(), slog.LevelWarn)
		servers[i] = srv
		g.log.Info("listening", "listener", l.Name, "addr", l.Listener.Addr().String())
		go func() {
			if err := srv.Serve(l.Listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s listener: %w", l.Name, err)
			}
		}()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	g.log.Info("draining listeners", "timeout", g.timeouts.Shutdown)
	// Long-polls and streams watch the drain signal and answer at once, so
	// the drain is bounded by ordinary requests, which are not cancelled.
	close(drain)
	drainCtx, cancel := context.WithTimeout(context.Background(), g.timeouts.Shutdown)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(drainCtx); err != nil {
				g.log.Warn("listener did not drain in time; closing", "error", err)
				srv.Close()
			}
		}()
	}
	wg.Wait()
	return serveErr
}

type drainKey struct{}

// DrainSignal returns a channel that is closed when the server serving the
// request starts draining. Long-polls and streams select on it and answer
// early. It is nil (never ready) outside a Group.
func DrainSignal(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainKey{}).(<-chan struct{})
	return ch
}
